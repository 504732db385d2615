/**
 * Streaming exposure windows per sensor, from readings at irregular times.
 *
 * Each reading holds until the next one, but never longer than `maxHoldMs` (three
 * reporting intervals): a gap is *uncovered* time, never filled with zeros or with a
 * value carried forward. Exposure is accumulated as concentration × time into one-minute
 * buckets (a ring of 12 h), so memory per sensor is fixed (about 17 KB).
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

const N8 = EIGHT_H_MS / BUCKET_MS; // 480
const N15 = FIFTEEN_MIN_MS / BUCKET_MS; // 15
/** extremes8h's per-minute doses: one buffer for all windows (calls never interleave), no allocation per grade. */
const SCRATCH = new Float64Array(N8 + 1);

export class ExposureWindow {
  /** Σ value·ms per minute bucket. */
  private readonly sum = new Float64Array(BUCKETS);
  /** Covered ms per minute bucket. */
  private readonly covered = new Float32Array(BUCKETS);
  /** Highest reading per minute (Float64: grading compares it with limits exactly as the CLI does). */
  private readonly peak = new Float64Array(BUCKETS);
  /** Minute index (ts / 60 000) each ring slot currently holds. */
  private readonly minuteOf = new Int32Array(BUCKETS).fill(-1);
  /**
   * Running sums over the whole buckets of each window, kept incrementally so a
   * metrics() call costs O(1) instead of a scan of 480 buckets: the 8-h window is the
   * head minute and the 479 before it, the 15-min window the head and the 14 before.
   */
  private head = -1;
  private sum8 = 0;
  private cov8 = 0;
  private sum15 = 0;
  private cov15 = 0;
  lastTs = -1;
  last = 0;
  /**
   * Σ over whole minutes [doseFrom, doseTo) as of the last dose() call: the per-shift TWA
   * asks for the same shift start on every reading, so a call adds only the minutes since
   * the previous one (accumulate() keeps the cached range current) instead of rescanning
   * up to 720 buckets.
   */
  private doseFrom = -1;
  private doseTo = -1;
  private doseSum = 0;
  private doseCov = 0;

  constructor(readonly maxHoldMs: number) {}

  private idx(minute: number): number {
    return ((minute % BUCKETS) + BUCKETS) % BUCKETS;
  }

  private slot(minute: number): number {
    const i = this.idx(minute);
    const old = this.minuteOf[i]!;
    if (old !== minute) {
      // The ring drops minute `old`: a cached dose range that holds it is no longer valid.
      if (old >= this.doseFrom && old < this.doseTo) {
        this.doseFrom = this.doseTo = -1;
        this.doseSum = this.doseCov = 0;
      }
      this.minuteOf[i] = minute;
      this.sum[i] = 0;
      this.covered[i] = 0;
      this.peak[i] = 0;
    }
    return i;
  }

  /** Bucket sum (value·ms) of a minute, or 0 if the ring no longer (or not yet) holds it. */
  private sumAt(minute: number): number {
    const i = this.idx(minute);
    return this.minuteOf[i] === minute ? this.sum[i]! : 0;
  }

  /** Covered ms of a minute, or 0 if the ring no longer (or not yet) holds it. */
  private coveredAt(minute: number): number {
    const i = this.idx(minute);
    return this.minuteOf[i] === minute ? this.covered[i]! : 0;
  }

  /** Move the window head forward to `minute`, dropping the buckets that leave each window. */
  private advance(minute: number) {
    if (minute <= this.head) return;
    if (this.head < 0 || minute - this.head > 60) {
      this.head = minute;
      this.recompute();
      return;
    }
    for (let m = this.head + 1; m <= minute; m++) {
      this.sum8 -= this.sumAt(m - N8);
      this.cov8 -= this.coveredAt(m - N8);
      this.sum15 -= this.sumAt(m - N15);
      this.cov15 -= this.coveredAt(m - N15);
    }
    this.head = minute;
  }

  private recompute() {
    this.sum8 = this.cov8 = this.sum15 = this.cov15 = 0;
    for (let k = 0; k < N8; k++) {
      const s = this.sumAt(this.head - k);
      const c = this.coveredAt(this.head - k);
      this.sum8 += s;
      this.cov8 += c;
      if (k < N15) {
        this.sum15 += s;
        this.cov15 += c;
      }
    }
  }

  /** Spread value × [from, to) over the minute buckets it spans (all at or before the head). */
  private accumulate(value: number, from: number, to: number) {
    let t = from;
    while (t < to) {
      const minute = Math.floor(t / BUCKET_MS);
      const end = Math.min(to, (minute + 1) * BUCKET_MS);
      const i = this.slot(minute);
      const dose = value * (end - t);
      this.sum[i]! += dose;
      this.covered[i]! += end - t;
      const age = this.head - minute;
      if (age >= 0 && age < N8) {
        this.sum8 += dose;
        this.cov8 += end - t;
        if (age < N15) {
          this.sum15 += dose;
          this.cov15 += end - t;
        }
      }
      if (minute >= this.doseFrom && minute < this.doseTo) {
        this.doseSum += dose;
        this.doseCov += end - t;
      }
      t = end;
    }
  }

  /** Add a reading. Out-of-order readings older than the newest one are ignored (returns false). */
  add(ts: number, value: number): boolean {
    if (ts <= this.lastTs) return false;
    this.advance(Math.floor(ts / BUCKET_MS));
    if (this.lastTs >= 0) this.accumulate(this.last, this.lastTs, Math.min(ts, this.lastTs + this.maxHoldMs));
    const i = this.slot(Math.floor(ts / BUCKET_MS));
    if (value > this.peak[i]!) this.peak[i] = value;
    this.lastTs = ts;
    this.last = value;
    return true;
  }

  /** Σ value·ms within [fromMs, toMs) at minute resolution, and the covered ms. */
  dose(fromMs: number, toMs: number): { dose: number; coveredMs: number } {
    const fromMin = Math.floor(fromMs / BUCKET_MS);
    const toMin = Math.max(fromMin, Math.ceil(toMs / BUCKET_MS)); // exclusive: every minute that starts before toMs
    let dose: number;
    let coveredMs: number;
    if (toMin - fromMin > BUCKETS) {
      // Longer than the ring: minutes it no longer holds count as 0 (not cached).
      dose = coveredMs = 0;
      for (let m = fromMin; m < toMin; m++) {
        dose += this.sumAt(m);
        coveredMs += this.coveredAt(m);
      }
    } else {
      if (fromMin !== this.doseFrom || toMin < this.doseTo) {
        this.doseFrom = this.doseTo = fromMin;
        this.doseSum = this.doseCov = 0;
      }
      for (let m = this.doseTo; m < toMin; m++) {
        this.doseSum += this.sumAt(m);
        this.doseCov += this.coveredAt(m);
      }
      this.doseTo = toMin;
      dose = this.doseSum;
      coveredMs = this.doseCov;
    }
    if (this.lastTs >= fromMs && this.lastTs < toMs) {
      const held = Math.max(0, Math.min(toMs, this.lastTs + this.maxHoldMs) - this.lastTs);
      dose += held * this.last;
      coveredMs += held;
    }
    return { dose, coveredMs };
  }

  /**
   * The extremes of the 8 h before `now`, for grading (grade-point.ts) and the shift record:
   * the highest 15-min C_STE (GBZ 2.1-2019) over windows on minute boundaries, and the highest
   * reading. The minute holding now − 8 h counts whole. O(495) per call: asked on demand
   * (an API grade, a shift's end), never per reading. For readings on minute boundaries the
   * 15-min maximum equals the exact one (segments.ts stel15max): the dose over a window is
   * piecewise linear in its start, so it peaks where a window edge meets a reading's edge.
   */
  extremes8h(now = this.lastTs): { stel15max: number; peak: number } {
    const nowMinute = Math.floor(now / BUCKET_MS);
    const first = nowMinute - N8;
    const n = N8 + 1;
    const dose = SCRATCH.fill(0);
    let peak = 0;
    for (let k = 0; k < n; k++) {
      const m = first + k;
      const i = this.idx(m);
      if (this.minuteOf[i] !== m) continue;
      dose[k] = this.sum[i]!;
      if (this.peak[i]! > peak) peak = this.peak[i]!;
    }
    // The newest reading holds up to now (within maxHoldMs): not in the buckets yet.
    if (this.lastTs >= 0) {
      const heldTo = Math.min(now, this.lastTs + this.maxHoldMs);
      for (let t = Math.max(this.lastTs, first * BUCKET_MS); t < heldTo; ) {
        const m = Math.floor(t / BUCKET_MS);
        const end = Math.min(heldTo, (m + 1) * BUCKET_MS);
        if (m - first < n) dose[m - first]! += this.last * (end - t);
        t = end;
      }
      if (this.lastTs > now - EIGHT_H_MS && this.lastTs <= now && this.last > peak) peak = this.last;
    }
    let run = 0;
    let best = 0;
    for (let k = 0; k < n; k++) {
      run += dose[k]!;
      if (k >= N15) run -= dose[k - N15]!;
      if (run > best) best = run;
    }
    return { stel15max: best / FIFTEEN_MIN_MS, peak };
  }

  /** Metrics as of `now` (the newest reading holds up to now, within maxHoldMs). */
  metrics(now = this.lastTs): WindowMetrics {
    const nowMinute = Math.floor(now / BUCKET_MS);
    this.advance(nowMinute);
    const held = this.lastTs >= 0 ? Math.max(0, Math.min(now, this.lastTs + this.maxHoldMs) - this.lastTs) : 0;
    // Windows end at now; for a past `now` (a query behind the head) scan instead.
    let sum8 = this.sum8;
    let cov8 = this.cov8;
    let sum15 = this.sum15;
    let cov15 = this.cov15;
    if (nowMinute < this.head) {
      sum8 = cov8 = sum15 = cov15 = 0;
      for (let k = 0; k < N8; k++) {
        const s = this.sumAt(nowMinute - k);
        const c = this.coveredAt(nowMinute - k);
        sum8 += s;
        cov8 += c;
        if (k < N15) {
          sum15 += s;
          cov15 += c;
        }
      }
    }
    // The oldest minute is counted pro rata: the window is (now − 8 h, now].
    const partial = 1 - (now - nowMinute * BUCKET_MS) / BUCKET_MS;
    const s8o = this.sumAt(nowMinute - N8);
    const c8o = this.coveredAt(nowMinute - N8);
    const s15o = this.sumAt(nowMinute - N15);
    const c15o = this.coveredAt(nowMinute - N15);
    let max15 = this.lastTs >= 0 && now - this.lastTs <= FIFTEEN_MIN_MS ? this.last : 0;
    for (let k = 0; k < N15; k++) {
      const i = this.idx(nowMinute - k);
      if (this.minuteOf[i] === nowMinute - k && this.peak[i]! > max15) max15 = this.peak[i]!;
    }
    const dose8 = sum8 + partial * s8o + held * this.last;
    const dose15 = sum15 + partial * s15o + held * this.last;
    return {
      twa8h: dose8 / EIGHT_H_MS,
      coverage8h: Math.min(1, (cov8 + partial * c8o + held) / EIGHT_H_MS),
      stel15: dose15 / FIFTEEN_MIN_MS,
      coverage15: Math.min(1, (cov15 + partial * c15o + held) / FIFTEEN_MIN_MS),
      max15,
      last: this.last,
      lastTs: this.lastTs,
    };
  }
}
