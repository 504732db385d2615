/**
 * The ingest spool on its own: how fast accepted readings are appended (one synchronous
 * write(2) per MQTT message, as before a PUBACK, with the 200 ms fdatasync running), and
 * how fast a backlog is replayed from the segment files into a real influxd (the
 * recovery after an outage). Called by `npm run bench` while its influxd is up.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/src/logger.ts';
import { createInfluxStore } from '../core/src/store/influx-store.ts';
import type { Reading } from '../core/src/types.ts';
import { createSpool } from '../ingest/src/spool.ts';

export interface SpoolBench { appendSingleReadingsPerSec: number; appendBatchReadingsPerSec: number; replayReadingsPerSec: number; replayed: number; bytesPerReading: number }

export async function benchSpool(influxUrl: string, quick: boolean): Promise<SpoolBench> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-spool-bench-'));
  const logger = silentLogger();
  const config = { dir: join(dir, 'spool'), segmentMaxReadings: 10_000, segmentMaxMs: 60_000, fsyncIntervalMs: 200, maxBytes: 4 * 2 ** 30 };
  const spool = createSpool(config, logger);
  const t0 = Date.UTC(2026, 0, 1);
  const reading = (i: number): Reading => ({ enterpriseId: `e${i % 50}`, gatewayId: 'gw1', sensorId: `e${i % 50}.s${i % 10}`, agent: 'noise', ts: t0 + i, value: 80 + (i % 7), unit: 'dB(A)', valueStd: 80 + (i % 7) });
  const n = quick ? 100_000 : 300_000;

  // Single-reading messages: one append (one write(2)) per reading.
  let start = performance.now();
  for (let i = 0; i < n; i++) spool.append([reading(i)], false);
  const appendSingleReadingsPerSec = Math.round(n / ((performance.now() - start) / 1000));
  const bytesPerReading = Math.round(spool.bytes() / n);
  // 50-reading messages.
  start = performance.now();
  for (let i = n; i < 2 * n; i += 50) spool.append(Array.from({ length: 50 }, (_, j) => reading(i + j)), false);
  const appendBatchReadingsPerSec = Math.round(n / ((performance.now() - start) / 1000));

  // Replay everything into influxd, oldest segment first, 5,000 points per write, two in flight (as ingest does).
  const store = createInfluxStore({ url: influxUrl, database: 'spool_bench', retentionPolicy: '', org: '', bucket: '', token: '', username: '', password: '', timeoutMs: 30_000 }, logger);
  await store.start();
  start = performance.now();
  let replayed = 0;
  const inflight = new Set<Promise<void>>();
  for (let s = spool.nextToReplay(); s; s = spool.nextToReplay()) {
    const rs = spool.read(s);
    for (let i = 0; i < rs.length; i += 5000) {
      const p = store.writeReadings(rs.slice(i, i + 5000)).then(() => void inflight.delete(p));
      inflight.add(p);
      if (inflight.size >= 2) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    replayed += rs.length;
    spool.release(s);
  }
  const replayReadingsPerSec = Math.round(replayed / ((performance.now() - start) / 1000));
  spool.close();
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  return { appendSingleReadingsPerSec, appendBatchReadingsPerSec, replayReadingsPerSec, replayed, bytesPerReading };
}
