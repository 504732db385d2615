import { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadCatalogue } from '../core/src/agents.ts';
import type { MqttBus } from '../core/src/bus.ts';
import type { Config } from '../core/src/config.ts';
import { HwError } from '../core/src/errors.ts';
import { startHealthReports } from '../core/src/health.ts';
import { startServiceHttp } from '../core/src/service-http.ts';
import type { Logger } from '../core/src/logger.ts';
import { createMetrics } from '../core/src/metrics.ts';
import type { PipelineCommand, PipelineEvent } from '../core/src/pipeline-events.ts';
import { loadRegistryFile, RegistryHolder } from '../core/src/registry.ts';
import { createStore } from '../core/src/store/index.ts';
import type { Store } from '../core/src/store/store.ts';
import { createInProcessTransport, type CommandHandler, type EventHandler, type Transport } from '../core/src/transport.ts';
import { createStreamsTransport } from '../core/src/transport-streams.ts';
import { createWatermarks } from '../core/src/streams/watermarks.ts';
import { createPartitionLeases } from '../core/src/streams/partition-lease.ts';
import { fnv1a } from '../core/src/fnv1a.ts';
import { ownedPartitions, type WorkerShare } from '../core/src/worker-share.ts';
import type { GatewaySim } from '../simulators/src/gateway-sim.ts';
import { reloadRegistryOnSighup } from './registry-reload.ts';
import { inProcessHealth } from './service-health.ts';
import type { RulesUnit } from './units/rules.ts';
import type { Unit, UnitContext } from './units/unit.ts';
import { START_ORDER, WIRING, consumedBy, type Topology } from './wiring.ts';

/**
 * Each unit's module, loaded when a process runs it: a split service loads its own part
 * only (the broker never loads the API's web framework, nor the API the broker).
 */
const units = {
  broker: () => import('./units/broker.ts'),
  ingest: () => import('./units/ingest.ts'),
  rules: () => import('./units/rules.ts'),
  api: () => import('./units/api.ts'),
};

/**
 * One composition for both topologies (DESIGN.md "Data flow"): the same units, wired from
 * one table (cli/wiring.ts) over an in-process transport (`hazardwatch all`, `npm start`)
 * or the distributed one (`hazardwatch broker|ingest|rules|api`). Start order: store →
 * rules → ingest → api → broker last; stop in reverse. SIGHUP reloads the registry, once
 * per process; a refused file keeps the registry in force (cli/registry-reload.ts).
 */

function shared(config: Readonly<Config>, logger: Logger) {
  const catalogue = loadCatalogue();
  const registry = new RegistryHolder(loadRegistryFile(config.registry, catalogue), () => loadRegistryFile(config.registry, catalogue));
  const stopReloading = reloadRegistryOnSighup(registry, logger);
  return { catalogue, registry, metrics: createMetrics(), stopReloading };
}

/** Subscribe each unit's consumers from the wiring table; a unit whose handlers differ from the table is a build error. */
export async function wire(units: readonly Unit[], topology: Topology, transport: Transport): Promise<void> {
  const present = new Set(units.map((u) => u.name));
  for (const u of units) {
    const mine = new Set<string>([...Object.keys(u.on), ...Object.keys(u.answers)]);
    const expected = consumedBy(u.name, topology);
    const extra = [...mine].filter((k) => !expected.includes(k as PipelineEvent));
    const missing = expected.filter((k) => !mine.has(k));
    if (extra.length || missing.length) throw new Error(`unit ${u.name} (${topology}) does not match cli/wiring.ts: missing handlers ${missing.join(', ') || 'none'}, not in the table ${extra.join(', ') || 'none'}`);
  }
  // In the table's order, so consumers run in the order the table lists them.
  for (const key of Object.keys(WIRING) as (PipelineEvent | PipelineCommand)[]) {
    const edge = WIRING[key];
    if (!edge.topologies.includes(topology)) continue;
    for (const name of edge.consumers) {
      if (!present.has(name)) continue;
      const u = units.find((x) => x.name === name)!;
      if (key === 'alert.command') await transport.handle(key, u.answers[key] as CommandHandler<typeof key>);
      else await transport.subscribe(key, u.on[key] as EventHandler<typeof key>, { everyReplica: edge.everyReplica?.includes(name) ?? false });
    }
  }
}

export interface RunningAll {
  mqttPort: number;
  httpPort: number;
  sims: GatewaySim[];
  /** The in-process transport (tests read its consumers). */
  transport: Transport;
  stop(): Promise<void>;
}

/** Every part in one process: broker, ingest, rules, API + dashboard, simulated gateways. */
export async function composeAll(config: Readonly<Config>, logger: Logger): Promise<RunningAll> {
  const { catalogue, registry, metrics, stopReloading } = shared(config, logger);
  const store = await createStore(config, logger);
  const transport = createInProcessTransport(logger);
  const ctx: UnitContext & { store: Store } = { config, logger, topology: 'all', registry, catalogue, metrics, transport, store };
  const [{ brokerUnit }, { ingestUnit }, { rulesUnit }, { apiUnit }, { createAedesBus }] = await Promise.all([units.broker(), units.ingest(), units.rules(), units.api(), import('../core/src/bus.ts')]);
  const broker = brokerUnit(ctx);
  const rules = rulesUnit(ctx);
  const ingest = ingestUnit(ctx, { bus: createAedesBus(broker.broker.aedes) });
  const api = apiUnit(ctx, { health: inProcessHealth({ broker: broker.broker, ingest: ingest.worker, rules: rules.engine, config }), insights: rules.engine });
  const byName: Record<string, Unit> = { broker, ingest, rules, api };
  await wire(Object.values(byName), 'all', transport);

  const started: Unit[] = [];
  const stopStarted = async () => {
    for (const u of started.splice(0).reverse()) await u.stop();
  };
  try {
    await store.start();
    for (const name of START_ORDER) {
      await byName[name]!.start();
      started.push(byName[name]!);
      await byName[name]!.ready?.();
    }
    await transport.start();
  } catch (err) {
    await stopStarted().catch(() => {});
    await store.stop().catch(() => {});
    stopReloading();
    throw err;
  }
  const mqttPort = broker.broker.port();
  const { createFleet, readCredentials } = await import('../simulators/src/fleet.ts');
  const fleet = config.simulate.enabled && existsSync(config.simulate.credentials)
    ? createFleet(registry.current, readCredentials(config.simulate.credentials), catalogue, logger, {
      url: `mqtt://127.0.0.1:${mqttPort}`, intervalMs: config.simulate.intervalMs, incidentEveryS: config.simulate.incidentEveryS,
    })
    : undefined;
  await fleet?.start();

  return {
    mqttPort,
    httpPort: api.describe().httpPort as number,
    sims: fleet?.sims ?? [],
    transport,
    async stop() {
      stopReloading();
      await fleet?.stop();
      await stopStarted();
      await transport.close();
      await store.stop();
    },
  };
}

/** A running service: what `hazardwatch <service>` keeps alive until SIGTERM. */
export interface Running {
  describe: Record<string, unknown>;
  stop(): Promise<void>;
  /** A one-shot command that has finished (nothing to keep alive). */
  done?: boolean;
}

/**
 * The ingest service's connection to the broker, for the err messages it sends gateways
 * (clean session: gateway messages reach ingest through Redis, not MQTT).
 */
async function errBus(config: Readonly<Config>, instance: string): Promise<MqttBus> {
  if (!config.service.brokerUrl || !config.service.password) {
    throw new HwError('HW_ERR_CONFIG', 'ingest answers gateways on their err topic through the broker: set HW_SERVICE_BROKER_URL and HW_SERVICE_PASSWORD (the broker\'s HW_SERVICE_PASSWORD)');
  }
  const { createMqttBus } = await import('../core/src/bus.ts');
  return createMqttBus(config.service.brokerUrl, config.service.username, config.service.password, `hw-ingest-${instance.slice(0, 40)}-${randomUUID().slice(0, 8)}`, { persistent: false });
}

/** One unit as its own process (`hazardwatch broker|ingest|rules|api`), over Redis Streams (core/src/transport-streams.ts). */
export async function composeService(name: 'broker' | 'ingest' | 'rules' | 'api', config: Readonly<Config>, logger: Logger, opts: { worker?: WorkerShare } = {}): Promise<Running> {
  if (!config.streams.redisUrl) throw new HwError('HW_ERR_CONFIG', `${name} runs as a separate service over Redis Streams: set HW_STREAMS_REDIS_URL (e.g. redis://127.0.0.1:6379)`);
  if (name === 'broker' && !config.service.password) throw new HwError('HW_ERR_CONFIG', 'the broker needs HW_SERVICE_PASSWORD for the ingest services');
  if (opts.worker && name !== 'rules') throw new HwError('HW_ERR_CONFIG', '--worker k/N is for `hazardwatch rules` only');
  const P = config.streams.partitions;
  const owned = opts.worker ? ownedPartitions(opts.worker, P) : undefined;
  // A consumer name that survives a restart, so a restarted worker reads its own pending
  // entries first, in order: a rules worker is its share (k of N, one process each), any
  // other service its HW_SERVICE_INSTANCE or host name (a container's is stable).
  const instance = (opts.worker ? `w${opts.worker.index}of${opts.worker.count}` : config.service.instance || hostname()).slice(0, 40);
  // Ingest workers share one consumer group (any number, no bookkeeping); rules workers own their partitions.
  const reportAs = name === 'ingest' ? `ingest@${instance}` : name === 'rules' && opts.worker ? `rules-${opts.worker.index}of${opts.worker.count}` : name === 'broker' && config.mqtt.redisUrl ? `broker@${instance}` : name;
  const { catalogue, registry, metrics, stopReloading } = shared(config, logger);
  const redis = new Redis(config.streams.redisUrl, { lazyConnect: true });
  redis.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error'));
  const transport = createStreamsTransport({
    redis, logger, instance: `${name}-${instance}`, partitions: P, owned, maxBacklog: config.streams.maxBacklog, consume: { claimIdleMs: config.streams.claimIdleMs },
  });
  const store = name === 'broker' ? undefined : await createStore(config, logger);
  const ctx = { config, logger, topology: 'services' as const, registry, catalogue, metrics, transport };
  let bus: MqttBus | undefined;
  // The API's sessions live in Redis (any replica accepts any token); the store keeps this client open for us to close.
  const sessionRedis = name === 'api' ? new Redis(config.streams.redisUrl, { lazyConnect: true }) : undefined;
  sessionRedis?.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis connection error (sessions)'));
  let unit: Unit;
  if (name === 'broker') unit = (await units.broker()).brokerUnit(ctx);
  else if (name === 'ingest') unit = (await units.ingest()).ingestUnit({ ...ctx, store: store! }, { bus: (bus = await errBus(config, instance)) });
  else if (name === 'rules') unit = (await units.rules()).rulesUnit({ ...ctx, store: store! }, { owns: owned ? ownsPartitions(owned, P) : undefined, watermarks: createWatermarks(redis, 'hw:rules:evaluated') });
  else {
    const [{ apiUnit }, { createRedisSessions }] = await Promise.all([units.api(), import('../api/src/redis-sessions.ts')]);
    unit = apiUnit({ ...ctx, store: store! }, undefined, { sessions: createRedisSessions({ redis: sessionRedis!, ttlMs: config.http.sessionTtlS * 1000, logger }) });
  }
  // Connected before wiring: the API's subscription reads where the alert stream stands.
  await redis.connect();
  await sessionRedis?.connect();
  await wire([unit], 'services', transport);
  await store?.start();
  await bus?.connect();
  // A rules worker owns its partitions alone: it waits for their leases before it consumes.
  const leases = name === 'rules' ? createPartitionLeases(redis, {
    name: 'rules', partitions: owned ?? Array.from({ length: P }, (_, p) => p), label: reportAs,
    onWaiting: (holders) => logger.warn({ holders }, 'partitions held by another rules process: waiting for their leases (is the same --worker running twice?)'),
    onLost: (lost) => {
      logger.error({ lost }, 'lost the lease of a partition to another rules process: stopping');
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    },
  }) : undefined;
  await leases?.acquire();
  await unit.start();
  await transport.start();
  await unit.ready?.();
  // The API has its own /metrics and /api/health; the others get a small endpoint of their own.
  const http = name !== 'api' && config.service.httpPort >= 0
    ? await startServiceHttp({ host: config.http.host, port: config.service.httpPort, metrics, checks: unit.checks, service: reportAs })
    : undefined;
  const reports = Object.keys(unit.checks).length
    ? startHealthReports({
      service: reportAs, intervalMs: config.service.healthReportMs, checks: unit.checks,
      publish: (report) => transport.publish('service.health', report, reportAs),
      onError: (err) => logger.debug({ err: err.message, service: reportAs }, 'health report not published'),
    })
    : undefined;
  return {
    describe: { service: name, instance, ...(owned ? { partitions: owned } : {}), ...(http ? { servicePort: http.port } : {}), ...unit.describe() },
    async stop() {
      stopReloading();
      reports?.stop();
      await http?.close();
      // Consumers first (no entry is handed to a unit that is stopping), then the unit, then what it published.
      await transport.stopDelivering();
      await unit.stop();
      await leases?.release();
      await transport.close();
      await bus?.close();
      sessionRedis?.disconnect();
      await store?.stop();
    },
  };
}

/** A rules worker's ownership: the enterprises whose partition (FNV-1a mod P, as the streams route them) it owns. */
function ownsPartitions(owned: readonly number[], partitions: number): (enterpriseId: string) => boolean {
  const set = new Set(owned);
  return (enterpriseId) => set.has(fnv1a(enterpriseId) % partitions);
}

export type { RulesUnit };
