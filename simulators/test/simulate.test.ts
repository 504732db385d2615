import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { loadCatalogue } from '../../core/src/agents.ts';
import { createAedesBus } from '../../core/src/bus.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { loadRegistryFile } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { createIngestWorker, type IngestWorker } from '../../ingest/src/ingest-worker.ts';
import { demoSecrets } from '../../test/clients.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { parseFaults } from '../src/faults.ts';
import { createGatewaySim } from '../src/gateway-sim.ts';
import { generateRegistry } from '../src/generate.ts';

describe('simulated gateways against a real broker and ingest', () => {
  const dir = tempDir('hw-sim-');
  const { registry, catalogue } = demo();
  const logger = silentLogger();
  let broker: Broker;
  let store: Store;
  let ingest: IngestWorker;
  const sensorsOf = (e: string) => [...registry.current.sensors.values()].filter((s) => s.enterpriseId === e);

  beforeAll(async () => {
    store = createSqliteStore(dir, logger);
    await store.start();
    broker = createBroker({ registry, logger, beforeAck: (t, p) => ingest.handle(t, p).spooled }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 1 << 16, serviceUsername: 'svc', servicePassword: 'sim-test' });
    await broker.start();
    ingest = createIngestWorker({ registry, catalogue, store, bus: createAedesBus(broker.aedes), logger, metrics: createMetrics() }, {
      batchMaxReadings: 500, flushIntervalMs: 20, maxReadingsPerMessage: 100, maxPayloadBytes: 1 << 16, maxFutureSkewMs: 300_000, maxAgeMs: 3600_000,
      memoryMaxReadings: 10_000, writeConcurrency: 1, spool: { dir: join(dir, 'spool'), maxBytes: 1 << 24, segmentMaxReadings: 1000, segmentMaxMs: 200, fsyncIntervalMs: 50 },
    });
    await ingest.start({ subscribe: false });
  });
  afterAll(async () => {
    await ingest.stop();
    await broker.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const count = async (e: string) => (await Promise.all(sensorsOf(e).map((s) => store.countReadings({ sensorId: s.id, from: 0, to: Infinity })))).reduce((a, b) => a + b, 0);

  it('stores and forwards: readings made while disconnected arrive after reconnecting, none lost', async () => {
    const e = 'foundry-liguo';
    const sim = createGatewaySim({ url: `mqtt://127.0.0.1:${broker.port()}`, enterpriseId: e, gatewayId: 'gw1', secret: demoSecrets[`${e}/gw1`]!, sensors: sensorsOf(e), industry: 'foundry', intervalMs: 50, catalogue, logger });
    await sim.start();
    await new Promise((r) => setTimeout(r, 300));
    sim.disconnect();
    await waitFor(() => sim.stats.buffered > 5 || undefined, { what: 'batches buffered while offline' });
    await waitFor(() => (sim.stats.connected && sim.stats.buffered === 0) || undefined, { what: 'reconnect and forward', timeoutMs: 10_000 });
    await sim.stop();
    await ingest.flush();
    await waitFor(async () => (await count(e)) === sim.stats.readings || undefined, { what: `${sim.stats.readings} readings stored`, timeoutMs: 10_000 });
    expect(sim.stats.readings).toBeGreaterThan(30);
  });

  it('injects faults at the configured rates: malformed payloads come back on err', async () => {
    const e = 'chem-dawu';
    const sim = createGatewaySim({ url: `mqtt://127.0.0.1:${broker.port()}`, enterpriseId: e, gatewayId: 'gw1', secret: demoSecrets[`${e}/gw1`]!, sensors: sensorsOf(e), industry: 'chemical', intervalMs: 20, catalogue, logger, faults: parseFaults('malformed=1') });
    await sim.start();
    await waitFor(() => sim.stats.errReceived >= 5 || undefined, { what: 'err replies' });
    await sim.stop();
    expect(await count(e)).toBe(0);
    expect(() => parseFaults('dropout=2')).toThrow(/dropout=2/);
    expect(() => parseFaults('gremlins=0.1')).toThrow(/gremlins/);
  });

  it('incidents drive a sensor past its limit, per the scenario for its agent', async () => {
    const e = 'coal-liuxin';
    const h2s = sensorsOf(e).find((s) => s.agent === 'gas.h2s')!;
    const sim = createGatewaySim({ url: `mqtt://127.0.0.1:${broker.port()}`, enterpriseId: e, gatewayId: 'gw1', secret: demoSecrets[`${e}/gw1`]!, sensors: [h2s], industry: 'coal-mine', intervalMs: 20, catalogue, logger });
    // A leak that started 4 min ago: the 3-min ramp is done and it holds at 2 × the MAC (10 mg/m3).
    sim.incident(h2s.id, 'leak-ramp', Date.now() - 4 * 60_000);
    const t0 = Date.now();
    await sim.start();
    await waitFor(() => sim.stats.published >= 5 || undefined, { what: 'published readings' });
    await sim.stop();
    await ingest.flush();
    const rs = await store.queryReadings({ sensorId: h2s.id, from: t0, to: Date.now() });
    expect(rs.length).toBeGreaterThanOrEqual(5);
    // Log-normal background plus the scenario: every reading is past the MAC, near 2 × MAC.
    for (const r of rs) {
      expect(r.unit).toBe('ppm');
      expect(r.valueStd).toBeGreaterThan(15);
      expect(r.valueStd).toBeLessThan(25);
    }
  });
});

describe('registry generation for load tests', () => {
  it('writes a valid registry of N gateways × M sensors across the industry profiles', async () => {
    const dir = tempDir('hw-gen-');
    const out = await generateRegistry({ gateways: 12, sensors: 7, outDir: dir });
    const reg = loadRegistryFile(out.registry, loadCatalogue());
    expect(reg.gateways.size).toBe(12);
    expect(reg.sensors.size).toBe(84);
    expect(new Set([...reg.enterprises.values()].map((e) => e.industry)).size).toBe(6);
    rmSync(dir, { recursive: true, force: true });
  });
});
