/**
 * Probe (issue 12 review finding 2): how long the embedded store (better-sqlite3, which
 * runs on the event loop) blocks for the KPI's data completeness (countReadingsPerHour of
 * 30 sensors over 30 days) and for one sensor's reading history over its whole span.
 *
 *   HW_PROBE_DAYS=7 HW_PROBE_SENSORS=30 node --import tsx bench/sqlite-kpi-probe.ts
 *
 * HW_PROBE_STORE names another module exporting createSqliteStore (e.g. an older version), to compare.
 *
 * Writes SENSORS × DAYS of readings every 2 s (the demo's rate) into a fresh data dir,
 * then times each query. Prints JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/src/logger.ts';
import type { Reading } from '../core/src/types.ts';

const { createSqliteStore } = (await import(process.env.HW_PROBE_STORE ?? '../core/src/store/sqlite-store.ts')) as typeof import('../core/src/store/sqlite-store.ts');
const DAYS = Number(process.env.HW_PROBE_DAYS ?? 7);
const SENSORS = Number(process.env.HW_PROBE_SENSORS ?? 30);
const STEP = 2000;
const DAY = 24 * 3600_000;
const to = Date.UTC(2026, 10, 1);
const from = to - DAYS * DAY;

const dir = mkdtempSync(join(tmpdir(), 'hw-probe-'));
const store = createSqliteStore(dir, silentLogger());
await store.start();
const ids = Array.from({ length: SENSORS }, (_, i) => `probe-${i}`);
const t0 = performance.now();
let written = 0;
for (let ts = from; ts < to; ts += 1000 * STEP) {
  const batch: Reading[] = [];
  for (const sensorId of ids) for (let k = 0; k < 1000; k++) batch.push({ enterpriseId: 'e', gatewayId: 'g', sensorId, agent: 'gas.co', ts: ts + k * STEP, value: 1 + (k % 7), unit: 'ppm', valueStd: 1 + (k % 7) });
  await store.writeReadings(batch);
  written += batch.length;
}
const writeMs = performance.now() - t0;

/** Time a query and the longest the event loop went without a turn meanwhile (a 1 ms timer's worst lateness). */
const time = async <T>(f: () => Promise<T>) => {
  let last = performance.now();
  let stall = 0;
  const timer = setInterval(() => {
    const t = performance.now();
    stall = Math.max(stall, t - last);
    last = t;
  }, 1);
  const s = performance.now();
  const r = await f();
  const ms = Math.round(performance.now() - s);
  clearInterval(timer);
  stall = Math.max(stall, performance.now() - last);
  return { ms, stallMs: Math.round(stall), r };
};
const kpi = await time(() => store.countReadingsPerHour({ sensorIds: ids, from, to }));
const kpi30 = await time(() => store.countReadingsPerHour({ sensorIds: ids, from: to - 30 * DAY, to }));
let agg: { ms: number; stallMs: number; r: unknown } | { error: string };
try {
  agg = await time(() => store.aggregateReadings({ sensorId: ids[0]!, from, to, intervalMs: DAY, fn: 'max' }));
} catch (err) {
  agg = { error: (err as Error).message };
}
const week = await time(() => store.aggregateReadings({ sensorId: ids[0]!, from: Math.max(from, to - 7 * DAY), to, intervalMs: 3600_000, fn: 'max' }));
console.log(JSON.stringify({
  sensors: SENSORS, days: DAYS, readings: written, writeMs: Math.round(writeMs), writePerS: Math.round(written / (writeMs / 1000)),
  countReadingsPerHourMs: kpi.ms, countReadingsPerHourStallMs: kpi.stallMs, hourRows: kpi.r.length, countReadingsPerHour30dMs: kpi30.ms, countReadingsPerHour30dStallMs: kpi30.stallMs,
  aggregateWholeSpanMs: 'ms' in agg ? agg.ms : agg.error, aggregateWholeSpanStallMs: 'ms' in agg ? agg.stallMs : null, aggregate7dHourlyMs: week.ms, aggregate7dHourlyStallMs: week.stallMs,
}));
await store.stop();
rmSync(dir, { recursive: true, force: true });
