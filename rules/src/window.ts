/**
 * Streaming exposure windows per sensor, from readings at irregular times.
 *
 * Each reading holds until the next one, but never longer than `maxHoldMs` (three
 * reporting intervals): a gap is *uncovered* time, never filled with zeros or with a
 * value carried forward. Exposure is accumulated as concentration × time into one-minute
 * buckets (a ring of 12 h), so memory per sensor is fixed (about 14 KB).
 *
 * - `twa8h`: GBZ 2.1-2019 §3 / GBZ/T 300 (C_TWA = ΣCiTi / 8 h): the exposure of the last
 *   8 h divided by 8 h, so uncovered time counts as unexposed, as the standard divides a
 *   shorter shift by 8 h too. `coverage8h` says how much of the 8 h was measured.
 * - `stel15`: GBZ 2.1-2019 (C_STE = ΣCiTi / 15 min) over the last 15 min.
 * Both windows end at `now`; the oldest minute bucket is counted pro rata.
 * - `dose(from, to)`: ΣCiTi inside a shift, for the per-shift TWA and the forecast.
 * For noise the caller adds 10^(L/10) (equal energy) and takes 10·lg of the mean.
 */
export const BUCKET_MS = 60_000;
const BUCKETS = 12 * 60; // 12 h of one-minute buckets: an 8-h window and 12-h shifts
const EIGHT_H_MS = 8 * 3600_000;
const FIFTEEN_MIN_MS = 15 * 60_000;

export interface WindowMetrics {
  twa8h: number;
  coverage8h: number;
  stel15: number;
  coverage15: number;
  /** Highest single reading in the last 15 min. */
  max15: number;
  last: number;
  lastTs: number;
}

export class ExposureWindow {
  /** Σ value·ms per minute bucket. */
  private readonly sum = new Float64Array(BUCKETS);
  /** Covered ms per minute bucket. */
  private readonly covered = new Float32Array(BUCKETS);
  private readonly peak = new Float32Array(BUCKETS);
  /** Minute index (ts / 60 000) each ring slot currently holds. */
  private readonly minuteOf = new Int32Array(BUCKETS).fill(-1);
  lastTs = -1;
  last = 0;

  constructor(private readonly maxHoldMs: number) {}

  private slot(minute: number): number {
    const i = minute % BUCKETS;
    if (this.minuteOf[i] !== minute) {
      this.minuteOf[i] = minute;
      this.sum[i] = 0;
      this.covered[i] = 0;
      this.peak[i] = 0;
    }
    return i;
  }

  /** Spread value × [from, to) over the minute buckets it spans. */
  private accumulate(value: number, from: number, to: number) {
    let t = from;
    while (t < to) {
      const minute = Math.floor(t / BUCKET_MS);
      const end = Math.min(to, (minute + 1) * BUCKET_MS);
      const i = this.slot(minute);
      this.sum[i]! += value * (end - t);
      this.covered[i]! += end - t;
      t = end;
    }
  }

  /** Add a reading. Out-of-order readings older than the newest one are ignored (returns false). */
  add(ts: number, value: number): boolean {
    if (ts <= this.lastTs) return false;
    if (this.lastTs >= 0) this.accumulate(this.last, this.lastTs, Math.min(ts, this.lastTs + this.maxHoldMs));
    const i = this.slot(Math.floor(ts / BUCKET_MS));
    if (value > this.peak[i]!) this.peak[i] = value;
    this.lastTs = ts;
    this.last = value;
    return true;
  }

  /** Σ value·ms within [fromMs, toMs) at minute resolution, and the covered ms. */
  dose(fromMs: number, toMs: number): { dose: number; coveredMs: number } {
    let dose = 0;
    let coveredMs = 0;
    for (let m = Math.floor(fromMs / BUCKET_MS); m * BUCKET_MS < toMs; m++) {
      const i = m % BUCKETS;
      if (this.minuteOf[i] !== m) continue;
      dose += this.sum[i]!;
      coveredMs += this.covered[i]!;
    }
    if (this.lastTs >= fromMs && this.lastTs < toMs) {
      const held = Math.max(0, Math.min(toMs, this.lastTs + this.maxHoldMs) - this.lastTs);
      dose += held * this.last;
      coveredMs += held;
    }
    return { dose, coveredMs };
  }

  /** Metrics as of `now` (the newest reading holds up to now, within maxHoldMs). */
  metrics(now = this.lastTs): WindowMetrics {
    const held = this.lastTs >= 0 ? Math.max(0, Math.min(now, this.lastTs + this.maxHoldMs) - this.lastTs) : 0;
    const nowMinute = Math.floor(now / BUCKET_MS);
    let dose8 = held * this.last;
    let cov8 = held;
    let dose15 = dose8;
    let cov15 = cov8;
    let max15 = this.lastTs >= 0 && now - this.lastTs <= FIFTEEN_MIN_MS ? this.last : 0;
    // The window is (now − 8 h, now]: whole buckets back to 8 h, and the share of the
    // oldest bucket that still falls inside it (exposure assumed even within a minute).
    const partial = 1 - (now - nowMinute * BUCKET_MS) / BUCKET_MS;
    const n8 = EIGHT_H_MS / BUCKET_MS;
    const n15 = FIFTEEN_MIN_MS / BUCKET_MS;
    for (let k = 0; k <= n8; k++) {
      const minute = nowMinute - k;
      const i = ((minute % BUCKETS) + BUCKETS) % BUCKETS;
      if (this.minuteOf[i] !== minute) continue;
      const w8 = k < n8 ? 1 : partial;
      dose8 += w8 * this.sum[i]!;
      cov8 += w8 * this.covered[i]!;
      if (k <= n15) {
        const w15 = k < n15 ? 1 : partial;
        dose15 += w15 * this.sum[i]!;
        cov15 += w15 * this.covered[i]!;
        if (k < n15 && this.peak[i]! > max15) max15 = this.peak[i]!;
      }
    }
    return {
      twa8h: dose8 / EIGHT_H_MS,
      coverage8h: Math.min(1, cov8 / EIGHT_H_MS),
      stel15: dose15 / FIFTEEN_MIN_MS,
      coverage15: Math.min(1, cov15 / FIFTEEN_MIN_MS),
      max15,
      last: this.last,
      lastTs: this.lastTs,
    };
  }
}
