import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { buildApp } from '../api/src/app.ts';
import { createBroker } from '../broker/src/broker.ts';
import { brokerConfigFrom } from '../broker/src/broker-config.ts';
import { loadCatalogue } from '../core/src/agents.ts';
import { createAedesBus, createMqttBus, type MqttBus } from '../core/src/bus.ts';
import { COMPONENTS, createHealthBoard, startHealthReports, type HealthCheck } from '../core/src/health.ts';
import { brokerCheck, ingestChecks, rulesCheck } from './service-health.ts';
import type { Config } from '../core/src/config.ts';
import { HwError } from '../core/src/errors.ts';
import type { Logger } from '../core/src/logger.ts';
import { createMetrics } from '../core/src/metrics.ts';
import { loadRegistryFile, RegistryHolder } from '../core/src/registry.ts';
import { createStore } from '../core/src/store/index.ts';
import { topics } from '../core/src/topics.ts';
import { COMMAND_EVENT, type AlertCommand, type AlertEvent, type Reading } from '../core/src/types.ts';
import { ingestConfigFrom } from '../ingest/src/ingest-config.ts';
import { createIngestWorker } from '../ingest/src/ingest-worker.ts';
import { parseShard } from '../ingest/src/shard.ts';
import { createRulesEngine } from '../rules/src/engine.ts';
import { createFleet, readCredentials } from '../simulators/src/fleet.ts';
import { parseFaults } from '../simulators/src/faults.ts';
import { generateRegistry } from '../simulators/src/generate.ts';
import { reloadRegistryOnSighup } from './registry-reload.ts';

/** A running service: what `hazardwatch <service>` keeps alive until SIGTERM. */
export interface Running {
  describe: Record<string, unknown>;
  stop(): Promise<void>;
  /** A one-shot command that has finished (nothing to keep alive). */
  done?: boolean;
}


function common(config: Readonly<Config>, logger: Logger) {
  const catalogue = loadCatalogue();
  const registry = new RegistryHolder(loadRegistryFile(config.registry, catalogue), () => loadRegistryFile(config.registry, catalogue));
  reloadRegistryOnSighup(registry, logger);
  return { catalogue, registry, metrics: createMetrics() };
}

/**
 * A service's connection to the broker. `persistent`: a stable client id (the service
 * name) and a persistent session, so the broker keeps what it acknowledged to gateways
 * while this service is down; run exactly one process per such name. Not yet connected:
 * the service subscribes its handlers, then calls `connect()`.
 */
function serviceBus(config: Readonly<Config>, name: string, persistent = false): MqttBus {
  if (!config.service.brokerUrl || !config.service.password) {
    throw new HwError('HW_ERR_CONFIG', `${name} runs against a broker: set HW_SERVICE_BROKER_URL and HW_SERVICE_PASSWORD (the broker's HW_SERVICE_PASSWORD)`);
  }
  const clientId = persistent ? `hw-${name}` : `hw-${name}-${randomUUID().slice(0, 8)}`;
  return createMqttBus(config.service.brokerUrl, config.service.username, config.service.password, clientId, { persistent });
}

/** Publish this service's health on the bus every HW_SERVICE_HEALTH_REPORT_MS; the API reads it. */
function reportHealth(config: Readonly<Config>, logger: Logger, service: string, publish: (topic: string, payload: string) => Promise<void>, checks: Record<string, HealthCheck>) {
  return startHealthReports({
    service, intervalMs: config.service.healthReportMs, checks,
    publish: (payload) => publish(topics.internalHealth(service), payload),
    onError: (err) => logger.debug({ err: err.message, service }, 'health report not published'),
  });
}

/** `hazardwatch broker`: the MQTT broker alone (several share state through HW_MQTT_REDIS_URL). */
export async function runBroker(config: Readonly<Config>, logger: Logger): Promise<Running> {
  const { registry, metrics } = common(config, logger);
  if (!config.service.password) throw new HwError('HW_ERR_CONFIG', 'the broker needs HW_SERVICE_PASSWORD for the ingest, rules and api services');
  const broker = createBroker({ registry, logger, metrics }, brokerConfigFrom(config));
  await broker.start();
  const bus = createAedesBus(broker.aedes);
  const reports = reportHealth(config, logger, 'broker', (t, p) => bus.publish(t, p), { broker: brokerCheck(broker) });
  return {
    describe: { service: 'broker', mqttPort: broker.port(), tlsPort: broker.tlsPort(), wsPort: broker.wsPort(), cluster: Boolean(config.mqtt.redisUrl) },
    async stop() {
      reports.stop();
      await broker.stop();
    },
  };
}

/** `hazardwatch ingest [--shard k/N]`: stores readings and forwards the accepted ones to the rules engine. */
export async function runIngest(config: Readonly<Config>, logger: Logger, args: string[]): Promise<Running> {
  const shardArg = args[args.indexOf('--shard') + 1];
  const shard = args.includes('--shard') && shardArg ? parseShard(shardArg) : undefined;
  const { catalogue, registry, metrics } = common(config, logger);
  const store = createStore(config, logger);
  await store.start();
  // Persistent: a kill -9 of this process loses nothing the broker acknowledged to a gateway.
  const name = shard ? `ingest-${shard.index}of${shard.count}` : 'ingest';
  const bus = serviceBus(config, name, true);
  // Accepted readings go on to the rules engine and the API in one message per event-loop
  // turn, not one per gateway message: with single-reading messages that halves the
  // broker's work per reading (multi-process figures in BENCHMARKS.md).
  // At most FORWARD_MAX readings per message (~200 bytes each in JSON).
  const FORWARD_MAX = 1000;
  let forwarding: Reading[] = [];
  const forward = () => {
    const all = forwarding;
    forwarding = [];
    for (let i = 0; i < all.length; i += FORWARD_MAX) {
      const rs = all.slice(i, i + FORWARD_MAX);
      bus.publish(topics.internalReadings, JSON.stringify(rs), { qos: 1 }).catch((err: Error) => logger.warn({ err: err.message, readings: rs.length }, 'accepted readings not forwarded to the rules engine'));
    }
  };
  const worker = createIngestWorker(
    {
      registry, catalogue, store, bus, logger, metrics,
      onAccepted: (rs) => {
        if (rs.length === 0) return;
        if (forwarding.length === 0) setImmediate(forward);
        for (const r of rs) forwarding.push(r);
      },
    },
    ingestConfigFrom(config, shard),
  );
  await worker.start();
  await bus.connect();
  const reports = reportHealth(config, logger, name, (t, p) => bus.publish(t, p), ingestChecks(worker, config));
  return {
    describe: { service: 'ingest', shard: shard ? `${shard.index}/${shard.count}` : 'all', store: store.kind },
    async stop() {
      reports.stop();
      await worker.stop();
      await bus.close();
      await store.stop();
    },
  };
}

/** `hazardwatch rules`: evaluates forwarded readings, publishes alert events, takes commands. */
export async function runRules(config: Readonly<Config>, logger: Logger): Promise<Running> {
  const { catalogue, registry, metrics } = common(config, logger);
  const store = createStore(config, logger);
  await store.start();
  const bus = serviceBus(config, 'rules');
  const engine = createRulesEngine({ registry, catalogue, store, logger, metrics, onAlertEvent: (e) => void bus.publish(topics.internalAlerts, JSON.stringify(e), { qos: 1 }) }, { clearHoldMs: 30_000 });
  await engine.start();
  await bus.subscribe(topics.internalReadings, (_t, payload) => engine.handleReadings(JSON.parse(payload.toString()) as Reading[]));
  await bus.subscribe(`${topics.internalAlerts}/commands`, (_t, payload) => {
    // Commands come from the API service, which validated them and checked the user's scope.
    engine.command(JSON.parse(payload.toString()) as AlertCommand);
  });
  await bus.connect();
  const reports = reportHealth(config, logger, 'rules', (t, p) => bus.publish(t, p), { rules: rulesCheck(engine) });
  return {
    describe: { service: 'rules', store: store.kind },
    async stop() {
      reports.stop();
      await engine.stop();
      await bus.close();
      await store.stop();
    },
  };
}

/** `hazardwatch api`: the API and dashboard, fed by the rules engine's alert events. */
export async function runApi(config: Readonly<Config>, logger: Logger): Promise<Running> {
  const { registry, metrics, catalogue } = common(config, logger);
  const store = createStore(config, logger);
  await store.start();
  const bus = serviceBus(config, 'api');
  const waiting = new Map<string, (e: AlertEvent) => void>();
  // The other services' health, from their reports on the bus (a component whose reports stop is down).
  const board = createHealthBoard();
  const reported = (name: string): HealthCheck => () => board.components([name])[name]!;
  const health: Record<string, HealthCheck> = Object.fromEntries(COMPONENTS.filter((n) => n !== 'store' && n !== 'api').map((n) => [n, reported(n)]));
  const brokerReported = health.broker!;
  health.broker = async () => (bus.isConnected() ? brokerReported() : { ok: false, detail: `the api is not connected to the broker at ${config.service.brokerUrl}` });
  const api = buildApp({
    registry, store, logger, metrics, catalogue, health,
    sessionTtlMs: config.http.sessionTtlS * 1000,
    actions: {
      // Ask the rules engine and wait for its event (it owns the alert lifecycle).
      run: (cmd) =>
        new Promise<AlertEvent | undefined>((resolve) => {
          const key = `${cmd.alertId}\0${COMMAND_EVENT[cmd.op]}`;
          const timer = setTimeout(() => {
            waiting.delete(key);
            resolve(undefined);
          }, 5000);
          waiting.set(key, (e) => {
            clearTimeout(timer);
            waiting.delete(key);
            resolve(e);
          });
          void bus.publish(`${topics.internalAlerts}/commands`, JSON.stringify(cmd), { qos: 1 });
        }),
    },
  });
  await api.loadHistory();
  await bus.subscribe(topics.allHealth, (_t, payload) => void board.receive(payload));
  await bus.subscribe(topics.internalReadings, (_t, payload) => api.onReadings(JSON.parse(payload.toString()) as Reading[]));
  await bus.subscribe(topics.internalAlerts, (_t, payload) => {
    const e = JSON.parse(payload.toString()) as AlertEvent;
    api.publishAlertEvent(e);
    waiting.get(`${e.alertId}\0${e.kind}`)?.(e);
  });
  await bus.connect();
  await api.app.listen({ host: config.http.host, port: config.http.port });
  return {
    describe: { service: 'api', httpPort: (api.app.server.address() as { port: number }).port },
    async stop() {
      await api.app.close();
      await bus.close();
      await store.stop();
    },
  };
}

const flag = (args: string[], name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

/**
 * `hazardwatch simulate [--url mqtt://host:port] [--credentials file] [--faults dropout=0.01,...]
 *  [--interval ms] [--duration s]`: the registry's gateways, simulated.
 * `hazardwatch simulate generate --gateways N --sensors M --out DIR`: a registry and credentials for load tests.
 */
export async function runSimulate(config: Readonly<Config>, logger: Logger, args: string[]): Promise<Running> {
  if (args[0] === 'generate') {
    const gateways = Number(flag(args, '--gateways') ?? 100);
    const sensors = Number(flag(args, '--sensors') ?? 10);
    const outDir = flag(args, '--out') ?? 'data/sim';
    if (!(gateways >= 1 && sensors >= 1)) throw new HwError('HW_ERR_CONFIG', '--gateways and --sensors must be positive integers');
    const out = await generateRegistry({ gateways, sensors, outDir });
    process.stderr.write(`wrote ${out.registry} and ${out.credentials}\nrun: HW_REGISTRY=${out.registry} HW_SIMULATE_ENABLED=false npm start\nthen: HW_REGISTRY=${out.registry} npx hazardwatch simulate --credentials ${out.credentials}\n`);
    return { describe: { service: 'simulate generate', ...out }, stop: async () => {}, done: true };
  }
  const { catalogue, registry } = common(config, logger);
  const url = flag(args, '--url') ?? `mqtt://127.0.0.1:${config.mqtt.port}`;
  const credentialsPath = flag(args, '--credentials') ?? config.simulate.credentials;
  if (!existsSync(credentialsPath)) throw new HwError('HW_ERR_CONFIG', `simulator credentials ${credentialsPath} not found (--credentials or HW_SIMULATE_CREDENTIALS)`);
  const fleet = createFleet(registry.current, readCredentials(credentialsPath), catalogue, logger, {
    url,
    intervalMs: Number(flag(args, '--interval') ?? config.simulate.intervalMs),
    incidentEveryS: config.simulate.incidentEveryS,
    faults: flag(args, '--faults') ? parseFaults(flag(args, '--faults')!) : undefined,
    progress: process.stderr,
  });
  await fleet.start();
  const durationS = Number(flag(args, '--duration') ?? 0);
  if (durationS > 0) setTimeout(() => process.kill(process.pid, 'SIGTERM'), durationS * 1000).unref();
  return {
    describe: { service: 'simulate', url, gateways: fleet.sims.length },
    stop: () => fleet.stop(),
  };
}
