import { HwError } from '../errors.ts';

/**
 * The one place where time ranges, intervals and pages that come from outside are
 * bounded, so that no request can make a store (or a loop over time) run unbounded.
 * Routes validate with these before they query; the stores call them again, so a caller
 * that forgot cannot reach an unbounded loop or an InfluxQL literal that does not parse.
 */

/** Earliest accepted time, ms since the epoch (times before 1970 are not readings). */
export const MIN_TS_MS = 0;
/**
 * Latest accepted time, ms: the largest time a JS Date holds (ECMA-262 §21.4.1.1,
 * ±8.64e15 ms), which is also below InfluxDB's largest timestamp (int64 ns,
 * 9,223,372,036,854 ms, year 2262) and exactly representable as a double.
 */
export const MAX_TS_MS = 8.64e15;
/** Aggregation interval bounds, ms: one second up to one (366-day) year. */
export const MIN_INTERVAL_MS = 1000;
export const MAX_INTERVAL_MS = 366 * 24 * 3600_000;
/** At most this many buckets per aggregate query (a chart needs a few hundred). */
export const MAX_BUCKETS = 10_000;
/** Exposure history: per-minute points, at most 7 days (10,080 points) per request. */
export const MAX_EXPOSURE_SPAN_MS = 7 * 24 * 3600_000;
/** KPI and audit periods: at most 366 days of alert events per request. */
export const MAX_PERIOD_SPAN_MS = 366 * 24 * 3600_000;
/**
 * Raw readings one aggregate query may scan: at most 31 days of one sensor (a chart of a
 * month; 1.34 M readings at the demo's 2 s), because the embedded store scans them on the
 * event loop. The KPI's data completeness reads hourly counts instead (no raw readings).
 */
export const MAX_READING_SPAN_MS = 31 * 24 * 3600_000;
/** Alerts still active (not cleared) read at start and by the KPI, at most; more is reported, never dropped silently. */
export const MAX_ACTIVE_ALERTS = 10_000;
/** Page size and offset bounds for lists. */
export const MAX_PAGE_SIZE = 5000;
export const MAX_OFFSET = 1_000_000;

const bad = (field: string, why: string) => new HwError('HW_ERR_BAD_RANGE', `${field} ${why}`);

/** A time from outside: an integer number of ms within [MIN_TS_MS, MAX_TS_MS]. */
export function checkTime(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw bad(field, 'must be an integer number of ms since the epoch');
  if (value < MIN_TS_MS || value > MAX_TS_MS) throw bad(field, `must be between ${MIN_TS_MS} and ${MAX_TS_MS} ms since the epoch`);
  return value;
}

export interface RangeFields {
  from?: string;
  to?: string;
}

/** A time range from outside: both times representable, from ≤ to, and at most `maxSpanMs` long. */
export function checkRange(from: unknown, to: unknown, opts: { maxSpanMs?: number; fields?: RangeFields } = {}): { from: number; to: number } {
  const fromField = opts.fields?.from ?? 'from';
  const toField = opts.fields?.to ?? 'to';
  const f = checkTime(from, fromField);
  const t = checkTime(to, toField);
  if (f > t) throw bad(toField, `must not be before ${fromField}`);
  if (opts.maxSpanMs !== undefined && t - f > opts.maxSpanMs) throw bad(fromField, `is more than ${opts.maxSpanMs} ms before ${toField} (the longest range this query serves)`);
  return { from: f, to: t };
}

/**
 * A range a store is asked for by its own callers (ingest, rules, tests): ends beyond the
 * representable range are clamped to it (`to: Infinity` means "up to the end"), since no
 * point lies outside it; a NaN or reversed range is refused. Routes use checkRange instead.
 */
export function clampRange(from: number, to: number): { from: number; to: number } {
  if (typeof from !== 'number' || Number.isNaN(from)) throw bad('from', 'must be a number of ms since the epoch');
  if (typeof to !== 'number' || Number.isNaN(to)) throw bad('to', 'must be a number of ms since the epoch');
  const f = Math.min(MAX_TS_MS, Math.max(MIN_TS_MS, Math.ceil(from)));
  const t = Math.min(MAX_TS_MS, Math.max(MIN_TS_MS, Math.floor(to)));
  if (from > to) throw bad('to', 'must not be before from');
  return { from: f, to: t };
}

/** The buckets an aggregate over [from, to] by `intervalMs` yields, bucket starts aligned to the epoch as InfluxQL's GROUP BY time() does. */
export function bucketCount(from: number, to: number, intervalMs: number): number {
  return Math.floor(to / intervalMs) - Math.floor(from / intervalMs) + 1;
}

/** An aggregate query of readings from outside: a valid range of at most MAX_READING_SPAN_MS and an interval that yields at most MAX_BUCKETS buckets. */
export function checkAggregate(q: { from: unknown; to: unknown; intervalMs: unknown }, fields: RangeFields & { intervalMs?: string } = {}): { from: number; to: number; intervalMs: number } {
  const { from, to } = checkRange(q.from, q.to, { fields });
  const field = fields.intervalMs ?? 'intervalMs';
  const step = q.intervalMs;
  if (typeof step !== 'number' || !Number.isInteger(step)) throw bad(field, 'must be an integer number of ms');
  if (step < MIN_INTERVAL_MS || step > MAX_INTERVAL_MS) throw bad(field, `must be between ${MIN_INTERVAL_MS} and ${MAX_INTERVAL_MS} ms`);
  const n = bucketCount(from, to, step);
  if (n > MAX_BUCKETS) throw bad(field, `is too small for the range: ${n} intervals, at most ${MAX_BUCKETS}`);
  // The span last, so a bad interval is named first, as before this bound existed.
  checkRange(from, to, { fields, maxSpanMs: MAX_READING_SPAN_MS });
  return { from, to, intervalMs: step };
}

/** A page from outside: 1 ≤ limit ≤ MAX_PAGE_SIZE, 0 ≤ offset ≤ MAX_OFFSET. */
export function checkPage(limit: unknown, offset: unknown = 0, fields: { limit?: string; offset?: string } = {}): { limit: number; offset: number } {
  const lf = fields.limit ?? 'limit';
  const of = fields.offset ?? 'offset';
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) throw bad(lf, `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0 || offset > MAX_OFFSET) throw bad(of, `must be an integer from 0 to ${MAX_OFFSET}`);
  return { limit, offset };
}

/**
 * Every bucket of [from, to] by `intervalMs`, with the value found for its start or null
 * (as InfluxQL GROUP BY time() fills), for both stores. The loop runs over an integer
 * bucket index checked against MAX_BUCKETS first, so it always advances and ends, even
 * where adding `intervalMs` to a large time would not change it.
 */
export function fillBuckets<T>(from: number, to: number, intervalMs: number, byStart: ReadonlyMap<number, T>): { ts: number; value: T | null }[] {
  const { from: f, to: t, intervalMs: step } = checkAggregate({ from, to, intervalMs });
  const first = Math.floor(f / step);
  const n = bucketCount(f, t, step);
  const out: { ts: number; value: T | null }[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const ts = (first + i) * step;
    out[i] = { ts, value: byStart.get(ts) ?? null };
  }
  return out;
}

/** The `limit` of a read of active alerts: an integer from 1 to MAX_ACTIVE_ALERTS + 1 (one more, to tell that there were more). */
export function checkActiveLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_ACTIVE_ALERTS + 1) throw bad('limit', `must be an integer from 1 to ${MAX_ACTIVE_ALERTS + 1}`);
  return limit;
}
