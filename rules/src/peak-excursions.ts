/**
 * GBZ 2.1-2019 peak excursion (峰接触浓度) for agents with a PC-TWA and no PC-STEL or MAC,
 * dusts included, tracked live (oel.md §A.1, status S: GitHub `judge_cli.py` "6.3.3 仅PC-TWA:
 * 瞬时>3xPC-TWA ≤15min/次, ≤4次/日, 间隔≥1h, 绝对≤5x"; the standard's text and clause number
 * were not retrieved). An excursion is a stretch of readings above 3 × PC-TWA; it must
 *   - last at most 15 min,
 *   - be one of at most 4 in the period (the shift, or the local day outside shifts),
 *   - start at least 1 h after the previous one ended.
 * The absolute bound (never above 5 × PC-TWA) is the engine's `peak` rule (red); C_TWA ≤ PC-TWA
 * is its `twa` rule. The same excursion model as the CLI's segments.ts peakExcursion: a
 * reading holds until the next one, for at most the window's hold time; stretches that touch
 * are one excursion. State per sensor is a few numbers (O(1)).
 */
export const EXCURSION_FACTOR = 3;
export const EXCURSION_MAX_MS = 15 * 60_000;
export const EXCURSIONS_MAX = 4;
export const EXCURSION_GAP_MS = 3600_000;

export type ExcursionViolation =
  | { kind: 'duration'; valueMin: number }
  | { kind: 'count'; count: number }
  | { kind: 'gap'; gapMin: number };

export class PeakExcursionTracker {
  private periodStart = Number.NaN;
  private count = 0;
  /** Start of the excursion in progress, or NaN. */
  private since = Number.NaN;
  /** End of the previous excursion in this period, or NaN. */
  private lastEnd = Number.NaN;
  private lastTs = Number.NaN;
  private lastAbove = false;
  /** The first rule broken in this period (it stands until the period ends). */
  violation: ExcursionViolation | undefined;

  constructor(private readonly maxHoldMs: number) {}

  /** Excursions counted in the current period. */
  get excursions() {
    return this.count;
  }

  /**
   * One reading (in time order) of a TWA-only agent. `periodStartMs` is the start of the
   * shift (or local day) the reading falls in. Returns the period's violation, if any.
   */
  reading(ts: number, value: number, pcTwa: number, periodStartMs: number): ExcursionViolation | undefined {
    if (!(ts > this.lastTs) && !Number.isNaN(this.lastTs)) return this.violation; // out of order: ignored, as the window does
    // The previous reading held until now, or until its hold ran out.
    const heldTo = Number.isNaN(this.lastTs) ? ts : Math.min(ts, this.lastTs + this.maxHoldMs);
    const above = value > EXCURSION_FACTOR * pcTwa;
    if (this.lastAbove && (heldTo < ts || !above)) this.end(heldTo);
    if (periodStartMs !== this.periodStart) {
      // A new shift or day: counts restart; an excursion in progress counts in the new period.
      this.periodStart = periodStartMs;
      this.count = Number.isNaN(this.since) ? 0 : 1;
      this.lastEnd = Number.NaN;
      this.violation = undefined;
    }
    if (above && Number.isNaN(this.since)) {
      this.since = ts;
      this.count++;
      if (this.count > EXCURSIONS_MAX) this.violation ??= { kind: 'count', count: this.count };
      if (!Number.isNaN(this.lastEnd) && ts - this.lastEnd < EXCURSION_GAP_MS) this.violation ??= { kind: 'gap', gapMin: (ts - this.lastEnd) / 60_000 };
    }
    // Still above at this reading: the excursion has lasted at least ts − since.
    if (above && ts - this.since > EXCURSION_MAX_MS) this.violation ??= { kind: 'duration', valueMin: (ts - this.since) / 60_000 };
    this.lastTs = ts;
    this.lastAbove = above;
    return this.violation;
  }

  private end(at: number) {
    if (at - this.since > EXCURSION_MAX_MS) this.violation ??= { kind: 'duration', valueMin: (at - this.since) / 60_000 };
    this.lastEnd = at;
    this.since = Number.NaN;
    this.lastAbove = false;
  }
}
