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
});
