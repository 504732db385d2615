import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { createAedesBus } from '../../core/src/bus.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { createInfluxStore } from '../../core/src/store/influx-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../../test/clients.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { startInfluxd, type InfluxdHandle } from '../../test/influxd.ts';
import { waitFor } from '../../test/ports.ts';
import { createIngestWorker, type IngestWorker } from '../src/ingest-worker.ts';

const E = 'cement-liguo';
const NOISE = 'cement-liguo.noise-1';

describe('ingest spool: backpressure and replay against a real influxd', () => {
  let influx: InfluxdHandle;
  let broker: Broker;
  let store: Store;
  let gw: MqttClient;
  const dir = tempDir('hw-spool-');
  const { registry, catalogue } = demo();
  const logger = silentLogger();
  let current: IngestWorker | undefined;
  const make = (maxBytes: number): IngestWorker =>
    (current = createIngestWorker({ registry, catalogue, store, bus: createAedesBus(broker.aedes), logger, metrics: createMetrics() }, {
      batchMaxReadings: 50, flushIntervalMs: 20, maxReadingsPerMessage: 100, maxPayloadBytes: 1 << 16, maxFutureSkewMs: 60_000, maxAgeMs: 24 * 3600_000,
      memoryMaxReadings: 20, writeConcurrency: 2, spool: { dir: `${dir}/spool`, maxBytes, segmentMaxReadings: 25, segmentMaxMs: 100, fsyncIntervalMs: 20 },
    }));

  /** The real influxd, each write delayed by `delayMs`, failing while `down(readings)` says so. */
  const slowed = (delayMs: number, down: (rs: Parameters<Store['writeReadings']>[0]) => boolean = () => false): Store =>
    Object.assign(Object.create(store) as Store, {
      writeReadings: async (rs: Parameters<Store['writeReadings']>[0]) => {
        if (down(rs)) throw new Error('store down (test)');
        await new Promise((r) => setTimeout(r, delayMs));
        return store.writeReadings(rs);
      },
    });
  /** A worker for the flow-control tests: writes of ≤ 10 readings, one at a time, PUBACKs held past 30 pending. */
  const laggingWorker = (s: Store, metrics: ReturnType<typeof createMetrics>, memoryMaxReadings: number, spool: { dir: string; segmentMaxReadings: number; segmentMaxMs: number }): IngestWorker =>
    (current = createIngestWorker({ registry, catalogue, store: s, bus: createAedesBus(broker.aedes), logger, metrics }, {
      batchMaxReadings: 10, flushIntervalMs: 5, maxReadingsPerMessage: 100, maxPayloadBytes: 1 << 16, maxFutureSkewMs: 60_000, maxAgeMs: 24 * 3600_000,
      memoryMaxReadings, writeConcurrency: 1, ackMaxPendingReadings: 30,
      spool: { ...spool, maxBytes: 1 << 20, fsyncIntervalMs: 20 },
    }));

  beforeAll(async () => {
    influx = await startInfluxd();
    store = createInfluxStore({ url: influx.url, database: 'spool', retentionPolicy: '', org: '', bucket: '', token: '', username: '', password: '', timeoutMs: 2000 }, logger, { maxAttempts: 1 });
    await store.start();
    // As in the all-in-one: the broker's PUBACK waits for the spool append.
    broker = createBroker({ registry, logger, beforeAck: (topic, payload) => current?.handle(topic, payload).spooled }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 1 << 16, serviceUsername: 'svc', servicePassword: 'x-secret' });
    await broker.start();
    gw = await connectGateway(broker.port(), E);
  });
  afterAll(async () => {
    await gw?.endAsync();
    await broker?.stop();
    await influx?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('withholds PUBACKs while the spool is full and the store is down, then stores everything once it recovers', async () => {
    const worker = make(3000);
    await worker.start({ subscribe: false });
    await influx.stop();
    const t0 = Date.now() - 1000;
    let acked = 0;
    const sends = Array.from({ length: 120 }, (_, i) =>
      gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ ts: t0 + i, readings: [{ sensor: NOISE, value: 80, unit: 'dB(A)' }] }), { qos: 1 }).then(() => acked++));
    await waitFor(() => worker.spoolBytes() >= 3000 || undefined, { what: 'the spool to fill' });
    await new Promise((r) => setTimeout(r, 500));
    // Backpressure: the gateway is not told "received" for what the spool could not take.
    expect(acked).toBeLessThan(120);
    expect(worker.spoolBytes()).toBeLessThan(3000 + 200);
    const segmentsWhileDown = readdirSync(`${dir}/spool`).length;
    expect(segmentsWhileDown).toBeGreaterThan(1);

    await influx.restart();
    await Promise.all(sends);
    expect(acked).toBe(120);
    await worker.flush();
    await waitFor(async () => (await store.countReadings({ sensorId: NOISE, from: t0, to: t0 + 119 })) === 120 || undefined, { what: '120 readings stored' });
    await worker.stop();
    // Every segment is released once stored.
    expect(readdirSync(`${dir}/spool`)).toEqual([]);
  });

  it('replays segments left by a stopped worker at the next start, in order', async () => {
    await influx.stop();
    const first = make(1 << 20);
    await first.start({ subscribe: false });
    const t0 = Date.now() - 500;
    for (let i = 0; i < 60; i++) await gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ ts: t0 + i, readings: [{ sensor: NOISE, value: 81, unit: 'dB(A)' }] }), { qos: 1 });
    await first.stop(500); // store unreachable: the readings stay in the spool
    expect(readdirSync(`${dir}/spool`).length).toBeGreaterThan(0);
    await influx.restart();
    const second = make(1 << 20);
    await second.start({ subscribe: false });
    await waitFor(async () => (await store.countReadings({ sensorId: NOISE, from: t0, to: t0 + 59 })) === 60 || undefined, { what: 'replayed readings', timeoutMs: 15_000 });
    await second.stop();
    expect(readdirSync(`${dir}/spool`)).toEqual([]);
  });
  it('holds PUBACKs while a slow store is behind, so pending readings stay bounded, and goes on once it catches up', async () => {
    // The real influxd, slowed to 5 writes/s of ≤ 10 readings: far below what the gateway offers.
    const metrics = createMetrics();
    const worker = laggingWorker(slowed(200), metrics, 10_000, { dir: `${dir}/spool-lag`, segmentMaxReadings: 1000, segmentMaxMs: 1000 });
    await worker.start({ subscribe: false });
    const gw2 = await connectGateway(broker.port(), 'foundry-liguo');
    const sensor = 'foundry-liguo.noise-1';
    const t0 = Date.now() - 5000;
    let maxPending = 0;
    const sampler = setInterval(() => (maxPending = Math.max(maxPending, worker.pending())), 2);
    // Five messages of 10 readings each, all sent at once, from two gateways.
    const sends = [
      ...Array.from({ length: 5 }, (_, i) => gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ readings: Array.from({ length: 10 }, (_, j) => ({ sensor: NOISE, ts: t0 + i * 10 + j, value: 80, unit: 'dB(A)' })) }), { qos: 1 })),
      ...Array.from({ length: 5 }, (_, i) => gw2.publishAsync(topics.up('foundry-liguo', 'gw1'), JSON.stringify({ readings: Array.from({ length: 10 }, (_, j) => ({ sensor, ts: t0 + i * 10 + j, value: 80, unit: 'dB(A)' })) }), { qos: 1 })),
    ];
    await Promise.all(sends);
    clearInterval(sampler);
    await worker.flush();
    await waitFor(async () => (await store.countReadings({ sensorId: NOISE, from: t0, to: t0 + 49 })) === 50 || undefined, { what: '50 readings of the first gateway' });
    await waitFor(async () => (await store.countReadings({ sensorId: sensor, from: t0, to: t0 + 49 })) === 50 || undefined, { what: '50 readings of the second gateway' });
    const waits = (await metrics.ingestAckWaits.get()).values.filter((v) => v.labels.reason === 'store-lag').reduce((a, v) => a + v.value, 0);
    // Flow control engaged, pending never passed the limit by more than one message, and
    // nothing went the slow way through the spool files.
    expect(waits).toBeGreaterThan(0);
    expect(maxPending).toBeLessThanOrEqual(30 + 10);
    expect((await metrics.ingestSpooled.get()).values[0]?.value ?? 0).toBe(0);
    await worker.stop();
    await gw2.endAsync();
  });

  it('counts what waits in the spool files towards the lag: after a failed write, PUBACKs wait while the replay is behind', async () => {
    // The real influxd behind a switch: down (writes fail), then slow (200 ms per write of ≤ 10).
    let down = true;
    const metrics = createMetrics();
    const worker = laggingWorker(slowed(200, () => down), metrics, 20, { dir: `${dir}/spool-backlog`, segmentMaxReadings: 20, segmentMaxMs: 50 });
    await worker.start({ subscribe: false });
    const sensor = 'cement-liguo.noise-1';
    const t0 = Date.now() - 20_000;
    const msg = (i: number) => JSON.stringify({ readings: Array.from({ length: 10 }, (_, j) => ({ sensor, ts: t0 + i * 10 + j, value: 80, unit: 'dB(A)' })) });
    const lagWaits = async () => (await metrics.ingestAckWaits.get()).values.filter((v) => v.labels.reason === 'store-lag').reduce((a, v) => a + v.value, 0);
    // While the store is down the spool takes everything: 60 readings, most of them only in files.
    await Promise.all(Array.from({ length: 6 }, (_, i) => gw.publishAsync(topics.up(E, 'gw1'), msg(i), { qos: 1 })));
    expect((await metrics.ingestSpooled.get()).values[0]?.value ?? 0).toBeGreaterThanOrEqual(30);
    // The store answers again, slowly. New messages must wait for the replay instead of
    // piling more onto a backlog the store cannot keep up with.
    down = false;
    await waitFor(async () => ((await metrics.ingestWritten.get()).values[0]?.value ?? 0) > 0 || undefined, { what: 'a successful write after the outage' });
    const before = await lagWaits();
    await Promise.all(Array.from({ length: 5 }, (_, i) => gw.publishAsync(topics.up(E, 'gw1'), msg(6 + i), { qos: 1 })));
    expect(await lagWaits()).toBeGreaterThan(before);
    await worker.flush();
    await waitFor(async () => (await store.countReadings({ sensorId: sensor, from: t0, to: t0 + 109 })) === 110 || undefined, { what: '110 readings stored', timeoutMs: 20_000 });
    await worker.stop();
  });

  it('replays the open spool segment again when the store fails during its replay (it was left unreplayed, and a full spool stayed full)', async () => {
    const sensor = 'cement-liguo.noise-1';
    const t0 = Date.now() - 30_000;
    // Memory takes the first 20 readings; the next 10 go to the one open segment only. The
    // first write of those fails once: the store goes down during the segment's replay.
    let failed = false;
    const store1 = slowed(0, (rs) => {
      if (failed || !rs.some((r) => r.ts >= t0 + 20)) return false;
      failed = true;
      return true;
    });
    const worker = laggingWorker(store1, createMetrics(), 20, { dir: `${dir}/spool-open`, segmentMaxReadings: 1000, segmentMaxMs: 60_000 });
    await worker.start({ subscribe: false });
    const msg = (i: number) => JSON.stringify({ readings: Array.from({ length: 10 }, (_, j) => ({ sensor, ts: t0 + i * 10 + j, value: 80, unit: 'dB(A)' })) });
    for (let i = 0; i < 3; i++) await gw.publishAsync(topics.up(E, 'gw1'), msg(i), { qos: 1 });
    await waitFor(async () => (await store.countReadings({ sensorId: sensor, from: t0, to: t0 + 29 })) === 30 || undefined, { what: '30 readings stored, the failed replay retried', timeoutMs: 15_000 });
    expect(failed).toBe(true);
    await worker.stop();
    expect(readdirSync(`${dir}/spool-open`)).toEqual([]);
  });
});
