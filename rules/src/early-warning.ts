import { linearRegression } from 'simple-statistics';
import type { AgentLimits } from '../../core/src/agents.ts';
import type { AlertReason } from '../../core/src/types.ts';

/**
 * Early warning (预测预警), the blue level:
 * - end of shift: projected C_TWA = (dose so far in the shift + recent level × time
 *   left) / 8 h (GBZ 2.1-2019 C_TWA with the shift divided by 8 h); warns when it will
 *   pass PC-TWA;
 * - trend: a least-squares line through the recent readings (simple-statistics); warns
 *   when it crosses the MAC, or when the 15-min mean it implies crosses PC-STEL, within
 *   the horizon. The warning states the projected value and when it is expected.
 */
export const HORIZON_MS = 15 * 60_000;
/** A trend is fitted only over at least this span and this many points, and is never
 * extrapolated further than TREND_REACH × the span it was fitted on. */
export const MIN_TREND_SPAN_MS = 120_000;
export const MIN_TREND_POINTS = 10;
export const TREND_REACH = 3;

/** A trend line: value = m × minutes since t0 + b, trusted up to horizonMs ahead. */
interface Fit { t0: number; m: number; b: number; horizonMs: number }
/** The line through the recent points, or a flat line at their mean when they are too few to trust a slope. */
function fit(points: readonly [number, number][], now: number, horizonMs: number): Fit {
  const t0 = points[0]![0];
  const span = points.at(-1)![0] - t0;
  if (points.length >= MIN_TREND_POINTS && span >= MIN_TREND_SPAN_MS) {
    const { m, b } = linearRegression(points.map(([t, v]) => [(t - t0) / 60_000, v]));
    return { t0, m, b, horizonMs: Math.min(horizonMs, TREND_REACH * span) };
  }
  const mean = points.reduce((a, [, v]) => a + v, 0) / points.length;
  return { t0, m: 0, b: mean, horizonMs };
}

/**
 * Each forecast and the rule of the limit it forecasts. A blue forecast is not raised
 * beside an active alert of the same limit (issue 12 item 3): that alert, yellow or
 * worse, already says more than the forecast does.
 */
export const FORECAST_LIMIT_RULE = { 'forecast-twa': 'twa', 'forecast-stel': 'stel', 'forecast-mac': 'mac' } as const;
export const FORECAST_RULES = Object.keys(FORECAST_LIMIT_RULE) as (keyof typeof FORECAST_LIMIT_RULE)[];

export interface Forecast {
  rule: keyof typeof FORECAST_LIMIT_RULE;
  reason: AlertReason;
  /** When the limit is expected to be passed (ms since epoch). */
  expectedAt: number;
}

export function projectShiftTwa(shiftDose: number, recentLevel: number, now: number, shiftEndMs: number): number {
  return (shiftDose + recentLevel * Math.max(0, shiftEndMs - now)) / (8 * 3600_000);
}

/** Earliest time in (now, now + horizon] the fitted line reaches `limit`, or undefined. */
export function timeToCross(points: readonly [ts: number, value: number][], limit: number, now: number, horizonMs = HORIZON_MS): number | undefined {
  return points.length === 0 ? undefined : macCross(fit(points, now, horizonMs), limit, now);
}

function macCross(f: Fit, limit: number, now: number): number | undefined {
  if (!(f.m > 0)) return undefined;
  const crossAt = f.t0 + ((limit - f.b) / f.m) * 60_000;
  return crossAt > now && crossAt <= now + f.horizonMs ? Math.round(crossAt) : undefined;
}

/**
 * Time at which the 15-min mean passes PC-STEL if the fitted trend continues, given the
 * exposure already in the current 15-min window (`dose15`, value·ms).
 */
export function stelCross(points: readonly [number, number][], dose15: number, limit: number, now: number, horizonMs = HORIZON_MS): number | undefined {
  return points.length === 0 ? undefined : stelCrossOf(fit(points, now, horizonMs), dose15, limit, now);
}

function stelCrossOf({ t0, m, b, horizonMs: reach }: Fit, dose15: number, limit: number, now: number): number | undefined {
  const level = (t: number) => Math.max(0, m * ((t - t0) / 60_000) + b);
  const stepMs = 30_000;
  // Slide forward: the window loses its oldest exposure (approximated as the current mean)
  // and gains the trend's.
  let windowDose = dose15;
  const meanRate = dose15 / (15 * 60_000);
  for (let t = now + stepMs; t <= now + reach; t += stepMs) {
    windowDose += level(t) * stepMs - meanRate * stepMs;
    if (windowDose / (15 * 60_000) > limit) return t;
  }
  return undefined;
}

export function forecast(opts: {
  limits: AgentLimits;
  unit: string;
  now: number;
  recent: readonly [number, number][];
  recentLevel: number;
  dose15: number;
  shift?: { dose: number; endMs: number };
}): Forecast[] {
  const { limits, unit, now } = opts;
  const out: Forecast[] = [];
  if (limits.pcTwa && opts.shift) {
    const projected = projectShiftTwa(opts.shift.dose, opts.recentLevel, now, opts.shift.endMs);
    if (projected > limits.pcTwa.value) {
      out.push({ rule: 'forecast-twa', expectedAt: opts.shift.endMs, reason: { metric: 'projected end-of-shift C_TWA', value: projected, limit: limits.pcTwa.value, unit, source: limits.pcTwa.source, expectedAt: opts.shift.endMs } });
    }
  }
  // One trend line per reading, for both the STEL and the MAC forecast.
  const trend = (limits.pcStel || limits.mac) && opts.recent.length ? fit(opts.recent, now, HORIZON_MS) : undefined;
  if (limits.pcStel && trend) {
    const at = stelCrossOf(trend, opts.dose15, limits.pcStel.value, now);
    if (at !== undefined) out.push({ rule: 'forecast-stel', expectedAt: at, reason: { metric: 'projected C_STE (15 min)', value: limits.pcStel.value, limit: limits.pcStel.value, unit, source: limits.pcStel.source, expectedAt: at } });
  }
  if (limits.mac && trend) {
    const at = macCross(trend, limits.mac.value, now);
    if (at !== undefined) out.push({ rule: 'forecast-mac', expectedAt: at, reason: { metric: 'trend reaches MAC', value: limits.mac.value, limit: limits.mac.value, unit, source: limits.mac.source, expectedAt: at } });
  }
  return out;
}
