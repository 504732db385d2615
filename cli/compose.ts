import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { loadCatalogue } from '../core/src/agents.ts';
import { createAedesBus, createMqttBus, type MqttBus } from '../core/src/bus.ts';
import type { Config } from '../core/src/config.ts';
import { HwError } from '../core/src/errors.ts';
import { startHealthReports } from '../core/src/health.ts';
import type { Logger } from '../core/src/logger.ts';
import { createMetrics } from '../core/src/metrics.ts';
import type { PipelineCommand, PipelineEvent } from '../core/src/pipeline-events.ts';
import { loadRegistryFile, RegistryHolder } from '../core/src/registry.ts';
import { createStore } from '../core/src/store/index.ts';
import type { Store } from '../core/src/store/store.ts';
import { createInProcessTransport, type CommandHandler, type EventHandler, type Transport } from '../core/src/transport.ts';
import { createBusTransport } from '../core/src/transport-bus.ts';
import type { parseShard } from '../ingest/src/shard.ts';
import type { GatewaySim } from '../simulators/src/gateway-sim.ts';
import { createFleet, readCredentials } from '../simulators/src/fleet.ts';
import { reloadRegistryOnSighup } from './registry-reload.ts';
import { inProcessHealth } from './service-health.ts';
import { apiUnit, brokerUnit, ingestUnit, rulesUnit, type BrokerUnit, type IngestUnit, type RulesUnit, type Unit, type UnitContext } from './units.ts';
import { START_ORDER, WIRING, consumedBy, type Topology } from './wiring.ts';

/** An ingest shard, `--shard k/N` (ingest/src/shard.ts). */
type Shard = ReturnType<typeof parseShard>;

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
      else await transport.subscribe(key, u.on[key] as EventHandler<typeof key>);
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
  const store = createStore(config, logger);
  const transport = createInProcessTransport(logger);
  const ctx: UnitContext & { store: Store } = { config, logger, topology: 'all', registry, catalogue, metrics, transport, store };
  // The broker hands gateway publishes to ingest before it acknowledges them.
  let ingest: IngestUnit | undefined;
  const broker = brokerUnit(ctx, { beforeAck: (topic, payload) => ingest!.worker.receive(topic, payload) });
  const rules = rulesUnit(ctx);
  ingest = ingestUnit(ctx, { bus: createAedesBus(broker.broker.aedes), subscribe: false });
  const api = apiUnit(ctx, { health: inProcessHealth({ broker: broker.broker, ingest: ingest.worker, rules: rules.engine, config }), insights: rules.engine });
  const units: Record<string, Unit> = { broker, ingest, rules, api };
  await wire(Object.values(units), 'all', transport);

  const started: Unit[] = [];
  const stopStarted = async () => {
    for (const u of started.splice(0).reverse()) await u.stop();
  };
  try {
    await store.start();
    for (const name of START_ORDER) {
      await units[name]!.start();
      started.push(units[name]!);
      await units[name]!.ready?.();
    }
    await transport.start();
  } catch (err) {
    await stopStarted().catch(() => {});
    await store.stop().catch(() => {});
    stopReloading();
    throw err;
  }
  const mqttPort = broker.broker.port();
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
 * A service's connection to the broker. `persistent`: a stable client id (the service
 * name) and a persistent session, so the broker keeps what it acknowledged to gateways
 * while this service is down; run exactly one process per such name.
 */
function serviceBus(config: Readonly<Config>, name: string, persistent: boolean): { bus: MqttBus; clientId: string } {
  if (!config.service.brokerUrl || !config.service.password) {
    throw new HwError('HW_ERR_CONFIG', `${name} runs against a broker: set HW_SERVICE_BROKER_URL and HW_SERVICE_PASSWORD (the broker's HW_SERVICE_PASSWORD)`);
  }
  const clientId = persistent ? `hw-${name}` : `hw-${name}-${randomUUID().slice(0, 8)}`;
  return { bus: createMqttBus(config.service.brokerUrl, config.service.username, config.service.password, clientId, { persistent }), clientId };
}

/** One unit as its own process (`hazardwatch broker|ingest|rules|api`), over the distributed transport. */
export async function composeService(name: 'broker' | 'ingest' | 'rules' | 'api', config: Readonly<Config>, logger: Logger, opts: { shard?: Shard } = {}): Promise<Running> {
  if (name === 'broker' && !config.service.password) throw new HwError('HW_ERR_CONFIG', 'the broker needs HW_SERVICE_PASSWORD for the ingest, rules and api services');
  const { catalogue, registry, metrics, stopReloading } = shared(config, logger);
  const base = { config, logger, topology: 'services' as const, registry, catalogue, metrics };
  let unit: Unit;
  let transport: Transport;
  let store: Store | undefined;
  let reportAs = name as string;
  if (name === 'broker') {
    // The broker's own process reaches the internal topics through Aedes directly.
    let t: Transport | undefined;
    const b: BrokerUnit = brokerUnit({ ...base, get transport() { return t!; } } as UnitContext);
    transport = t = createBusTransport(createAedesBus(b.broker.aedes), { logger });
    unit = b;
  } else {
    store = createStore(config, logger);
    // Ingest is persistent: a kill -9 of it loses nothing the broker acknowledged to a gateway.
    reportAs = name === 'ingest' && opts.shard ? `ingest-${opts.shard.index}of${opts.shard.count}` : name;
    const { bus, clientId } = serviceBus(config, reportAs, name === 'ingest');
    transport = createBusTransport(bus, { logger, connect: () => bus.connect(), requester: clientId });
    const ctx = { ...base, transport, store };
    unit = name === 'ingest' ? ingestUnit(ctx, { bus, subscribe: true, shard: opts.shard })
      : name === 'rules' ? rulesUnit(ctx)
      : apiUnit(ctx, undefined, { brokerConnected: () => bus.isConnected() });
  }
  await wire([unit], 'services', transport);
  await store?.start();
  await unit.start();
  await transport.start();
  await unit.ready?.();
  const reports = Object.keys(unit.checks).length
    ? startHealthReports({
      service: reportAs, intervalMs: config.service.healthReportMs, checks: unit.checks,
      publish: (report) => transport.publish('service.health', report, reportAs),
      onError: (err) => logger.debug({ err: err.message, service: reportAs }, 'health report not published'),
    })
    : undefined;
  return {
    describe: { service: name, ...unit.describe() },
    async stop() {
      stopReloading();
      reports?.stop();
      await unit.stop();
      await transport.close();
      await store?.stop();
    },
  };
}

export type { RulesUnit };
