import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { createAedesBus } from '../../core/src/bus.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { topics } from '../../core/src/topics.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { GROUP_MAX_BYTES } from '../src/accept-group.ts';
import { createIngestWorker, type IngestWorker } from '../src/ingest-worker.ts';

const E = 'cement-liguo';
const NOISE = 'cement-liguo.noise-1';

describe('ingest: messages of one event-loop run go to the spool together (accept-group.ts)', () => {
  const dir = tempDir('hw-group-');
  const { registry, catalogue } = demo();
  const logger = silentLogger();
  let broker: Broker;
  let store: Store;
  let worker: IngestWorker;
  beforeAll(async () => {
    broker = createBroker({ registry, logger }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 1 << 20, serviceUsername: 'svc', servicePassword: 'svc-secret' });
    await broker.start();
    store = createSqliteStore(dir, logger);
    await store.start();
    worker = createIngestWorker({ registry, catalogue, store, bus: createAedesBus(broker.aedes), logger, metrics: createMetrics() }, {
      batchMaxReadings: 100_000, flushIntervalMs: 60_000, maxReadingsPerMessage: 1000, maxPayloadBytes: 1 << 20, maxFutureSkewMs: 60_000, maxAgeMs: 24 * 3600_000,
      memoryMaxReadings: 1_000_000, ackMaxPendingReadings: 1_000_000, writeConcurrency: 1, spool: { dir: `${dir}/spool`, maxBytes: 1 << 30, segmentMaxReadings: 1_000_000, segmentMaxMs: 600_000, fsyncIntervalMs: 1000 },
    });
    await worker.start({ subscribe: false });
  });
  afterAll(async () => {
    await worker.stop();
    await store.stop();
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const spoolLines = () => readdirSync(`${dir}/spool`).filter((f) => f.endsWith('.ndjson'))
    .reduce((n, f) => n + readFileSync(`${dir}/spool/${f}`, 'utf8').split('\n').filter(Boolean).length, 0);

  it('appends the readings of messages handled in one run at its end, in one write; each message settles after it', async () => {
    const t0 = Date.now() - 60_000;
    const lines0 = spoolLines();
    const results = Array.from({ length: 20 }, (_, i) => worker.handle(topics.up(E, 'gw1'), Buffer.from(JSON.stringify({ readings: [{ sensor: NOISE, ts: t0 + i, value: 80, unit: 'dB(A)' }] }))));
    // Checked at once, appended at the end of this run: nothing in memory yet.
    expect(results.every((r) => r.accepted === 1 && r.spooled instanceof Promise)).toBe(true);
    const pending0 = worker.pending();
    await Promise.all(results.map((r) => r.spooled));
    expect(worker.pending() - pending0).toBe(20);
    // The 20 messages are one group: their lines went to the spool in one write (20 lines, one per message).
    expect(spoolLines() - lines0).toBe(20);
  });

  it(`appends a group at once when it reaches ${GROUP_MAX_BYTES} bytes, so one run's input never makes one huge string`, () => {
    const t0 = Date.now() - 50_000;
    const pending0 = worker.pending();
    // 1,000 readings of ~70 spool bytes per message: past the limit after about 60 messages.
    const msg = (i: number) => Buffer.from(JSON.stringify({ readings: Array.from({ length: 1000 }, (_, j) => ({ sensor: NOISE, ts: t0 + i * 1000 + j, value: 80, unit: 'dB(A)' })) }));
    let appendedAt: number | undefined;
    for (let i = 0; i < 200 && appendedAt === undefined; i++) {
      worker.handle(topics.up(E, 'gw1'), msg(i));
      if (worker.pending() > pending0) appendedAt = i;
    }
    // Appended synchronously, within this run, once the group passed the limit.
    expect(appendedAt).toBeDefined();
    expect(worker.pending() - pending0).toBe((appendedAt! + 1) * 1000);
    expect(appendedAt!).toBeGreaterThan(10);
  });
});
