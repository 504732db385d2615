/**
 * Exposure from measured segments (start, end, value): the auditor's calculation.
 * Time not covered by any segment counts as unexposed (GBZ 2.1 divides by 8 h even
 * for a shorter shift). Pure functions; no clock, no I/O.
 */
import { DEFAULT_NOISE_RULE, doseToTwa, dosePct } from './noise-dose.ts';

export interface Segment {
  startMs: number;
  endMs: number;
  value: number;
}

const H8 = 8 * 3600_000;
const MIN15 = 15 * 60_000;

/** GBZ 2.1-2019 / GBZ 159: C_TWA = Σ Ci·Ti / 8 h (a shorter shift is still divided by 8 h). */
export function twa8h(segs: readonly Segment[]): number {
  let dose = 0;
  for (const s of segs) dose += s.value * (s.endMs - s.startMs);
  return dose / H8;
}

/** Exposure within [from, to) from segments (value·ms). */
function doseIn(segs: readonly Segment[], from: number, to: number): number {
  let d = 0;
  for (const s of segs) {
    const a = Math.max(s.startMs, from);
    const b = Math.min(s.endMs, to);
    if (b > a) d += s.value * (b - a);
  }
  return d;
}

/**
 * GBZ 2.1-2019: C_STE = Σ Ci·Ti / 15 min over any 15-min period; the maximum over the
 * day. The 15-min dose is piecewise linear in the window start, so its maximum lies at a
 * window that starts or ends on a segment boundary: those candidates are exact.
 */
export function stel15max(segs: readonly Segment[]): number {
  let best = 0;
  for (const s of segs) {
    for (const from of [s.startMs, s.endMs - MIN15, s.startMs - MIN15, s.endMs]) {
      const v = doseIn(segs, from, from + MIN15) / MIN15;
      if (v > best) best = v;
    }
  }
  return best;
}

export const peak = (segs: readonly Segment[]) => segs.reduce((m, s) => Math.max(m, s.value), 0);

/**
 * GBZ 2.1-2019 peak excursion (峰接触浓度), for agents with a PC-TWA only, dusts included
 * (oel.md §A.1, status S; clause not confirmed): each excursion above 3 × PC-TWA lasts
 * ≤ 15 min, there are ≤ 4 a day, ≥ 1 h apart, and nothing ever exceeds 5 × PC-TWA.
 */
export function peakExcursion(segs: readonly Segment[], pcTwa: number) {
  const sorted = [...segs].sort((a, b) => a.startMs - b.startMs);
  const excursions: { startMs: number; endMs: number; max: number }[] = [];
  for (const s of sorted) {
    if (s.value <= 3 * pcTwa) continue;
    const last = excursions.at(-1);
    if (last && s.startMs <= last.endMs) {
      last.endMs = Math.max(last.endMs, s.endMs);
      last.max = Math.max(last.max, s.value);
    } else excursions.push({ startMs: s.startMs, endMs: s.endMs, max: s.value });
  }
  const failures: string[] = [];
  if (excursions.some((e) => e.endMs - e.startMs > MIN15)) failures.push('an excursion above 3 × PC-TWA lasted more than 15 min');
  if (excursions.length > 4) failures.push(`${excursions.length} excursions above 3 × PC-TWA (at most 4 a day)`);
  for (let i = 1; i < excursions.length; i++) {
    if (excursions[i]!.startMs - excursions[i - 1]!.endMs < 3600_000) {
      failures.push('excursions above 3 × PC-TWA less than 1 h apart');
      break;
    }
  }
  if (excursions.some((e) => e.max > 5 * pcTwa)) failures.push('a level above 5 × PC-TWA');
  return { excursions, failures, compliant: failures.length === 0 };
}

/**
 * Noise, equal energy (GBZ 2.2-2007, ISO 9612): LAeq,Te = 10·lg[(1/Te)·Σ Ti·10^(0.1·LAi)],
 * LEX,8h = LAeq,Te + 10·lg(Te/T0) = 10·lg[(1/8 h)·Σ Ti·10^(0.1·Li)]. Unexposed time adds nothing.
 * Computed as the GBZ dose (noise-dose.ts), which is this formula exactly.
 */
export function lex8h(segs: readonly Segment[]): number {
  return doseToTwa(dosePct(segs, DEFAULT_NOISE_RULE), DEFAULT_NOISE_RULE);
}

/** Weekly: LEX,W = 10·lg[(1/5)·Σ 10^(0.1·LEX,8h,i)] over the days of the week (GBZ 2.2-2007). */
export function lexWeekly(dailyLex8h: readonly number[]): number {
  return 10 * Math.log10(dailyLex8h.reduce((a, l) => a + 10 ** (0.1 * l), 0) / 5);
}

/** Share of [from, to) covered by segments. */
export function coverage(segs: readonly Segment[], from: number, to: number): number {
  const spans = segs.map((s) => [Math.max(s.startMs, from), Math.min(s.endMs, to)] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let end = from;
  for (const [a, b] of spans) {
    if (b <= end) continue;
    covered += b - Math.max(a, end);
    end = b;
  }
  return to > from ? covered / (to - from) : 0;
}
