import { existsSync } from 'node:fs';
import { createBroker } from '../broker/src/broker.ts';
import { brokerConfigFrom } from '../broker/src/broker-config.ts';
import { buildApp } from '../api/src/app.ts';
import { loadCatalogue } from '../core/src/agents.ts';
import { createAedesBus } from '../core/src/bus.ts';
import type { Config } from '../core/src/config.ts';
import type { Logger } from '../core/src/logger.ts';
import { createMetrics } from '../core/src/metrics.ts';
import { loadRegistryFile, RegistryHolder } from '../core/src/registry.ts';
import { createStore } from '../core/src/store/index.ts';
import { createIngestWorker } from '../ingest/src/ingest-worker.ts';
import { ingestConfigFrom } from '../ingest/src/ingest-config.ts';
import { createRulesEngine } from '../rules/src/engine.ts';
import { inProcessHealth } from './service-health.ts';
import type { GatewaySim } from '../simulators/src/gateway-sim.ts';
import { createFleet, readCredentials } from '../simulators/src/fleet.ts';
import { reloadRegistryOnSighup } from './registry-reload.ts';

export interface RunningAll {
  mqttPort: number;
  httpPort: number;
  sims: GatewaySim[];
  stop(): Promise<void>;
}

/** Every part in one process: broker, ingest, rules, API + dashboard, simulated gateways. */
export async function startAll(config: Readonly<Config>, logger: Logger): Promise<RunningAll> {
  const catalogue = loadCatalogue();
  const registry = new RegistryHolder(loadRegistryFile(config.registry, catalogue), () => loadRegistryFile(config.registry, catalogue));
  const metrics = createMetrics();
  const store = createStore(config, logger);
  await store.start();

  // The broker hands gateway publishes to ingest before it acknowledges them.
  let ingestHook: ((topic: string, payload: Buffer) => Promise<void> | undefined) | undefined;
  const broker = createBroker(
    { registry, logger, metrics, beforeAck: (topic, payload) => ingestHook?.(topic, payload), onPresence: (p) => rules.handlePresence(p) },
    brokerConfigFrom(config),
  );
  await broker.start();
  const bus = createAedesBus(broker.aedes);

  const rules = createRulesEngine({ registry, catalogue, store, logger, metrics, onAlertEvent: (e) => api.publishAlertEvent(e) }, { clearHoldMs: 30_000 });
  const ingest = createIngestWorker(
    {
      registry, catalogue, store, bus, logger, metrics,
      onAccepted: (rs) => {
        rules.handleReadings(rs);
        api.onReadings(rs);
      },
      onRejected: (rj, ts) => rules.handleRejections(rj, ts),
    },
    ingestConfigFrom(config),
  );
  const api = buildApp({
    registry, store, logger, metrics, catalogue, insights: rules,
    actions: { run: (cmd) => rules.command(cmd) },
    sessionTtlMs: config.http.sessionTtlS * 1000,
    health: inProcessHealth({ broker, ingest, rules, config }),
  });
  await api.loadHistory();
  await rules.start();
  // Should ingest ever throw, receive() rejects: the message is not acknowledged as if taken.
  ingestHook = ingest.receive;
  await ingest.start({ subscribe: false });
  await api.app.listen({ host: config.http.host, port: config.http.port });
  const httpPort = (api.app.server.address() as { port: number }).port;

  const stopReloading = reloadRegistryOnSighup(registry, logger);

  const fleet = config.simulate.enabled && existsSync(config.simulate.credentials)
    ? createFleet(registry.current, readCredentials(config.simulate.credentials), catalogue, logger, {
      url: `mqtt://127.0.0.1:${broker.port()}`, intervalMs: config.simulate.intervalMs, incidentEveryS: config.simulate.incidentEveryS,
    })
    : undefined;
  await fleet?.start();

  return {
    mqttPort: broker.port(),
    httpPort,
    sims: fleet?.sims ?? [],
    async stop() {
      stopReloading();
      await fleet?.stop();
      await api.app.close();
      await ingest.stop();
      await rules.stop();
      await broker.stop();
      await store.stop();
    },
  };
}
