import { excursionBound } from '../../core/src/excursion-rule.ts';
import { limitsInForce } from '../../core/src/limits-in-force.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import { tzOffsetMs } from '../../core/src/shifts.ts';
import type { Reading } from '../../core/src/types.ts';
import { excursionReason, FAULT_LEVEL, faultReason } from './alert-reasons.ts';
import { closeShift } from './close-shift.ts';
import { forecast, FORECAST_LIMIT_RULE, FORECAST_RULES } from './early-warning.ts';
import type { EngineState } from './engine-state.ts';
import { evaluate } from './evaluate.ts';
import { PeakExcursionTracker, type ExcursionViolation } from './peak-excursions.ts';

const TREND_WINDOW_MS = 10 * 60_000;
/** Trend points kept per sensor at most (10 min at a 5-s interval). */
const TREND_MAX_POINTS = 120;

/**
 * One reading of an owned sensor into its state: dead-man, shift, exposure window, peak
 * excursions and trend. With `evaluateNow` (a live reading, not a rebuild from the store)
 * the rules run too: limits (evaluate.ts), excursions, forecasts, sensor faults.
 */
export function evaluateReading(e: EngineState, s: SensorEntry, r: Pick<Reading, 'ts' | 'valueStd' | 'clamped'>, evaluateNow: boolean): void {
  e.deadMan.seen(s.id, r.ts);
  const st = e.stateOf(s);
  if (st.shift && r.ts >= st.shift.endMs && r.ts > st.window.lastTs) closeShift(e, s, st, evaluateNow);
  if (!st.window.add(r.ts, e.toWindow(s, r.valueStd))) {
    // Out of order: the window takes readings in time order only; counted, not evaluated.
    e.deps.metrics.rulesOutOfOrder.inc();
    return;
  }
  if (!st.shift) {
    const sh = e.shiftOf(s, r.ts);
    if (sh && sh.startMs >= e.trackShiftsFrom) st.shift = sh;
  }
  const limits = limitsInForce(e.deps.catalogue, s.profileId, s.agentDef);
  // Only under a profile whose standard has an excursion rule (GBZ 2.1-2019; not OSHA, NIOSH).
  const pcTwaOnly = excursionBound(e.excursionRuleOf(s), s.agentDef.kind, limits);
  let excursion: ExcursionViolation | undefined;
  if (pcTwaOnly) {
    st.excursions ??= new PeakExcursionTracker(st.window.maxHoldMs);
    excursion = st.excursions.reading(r.ts, r.valueStd, pcTwaOnly.pcTwa.value, periodStart(e, s, r.ts));
  }
  // The trend feeds the gas and dust forecasts below; noise and radon have none.
  if (s.agentDef.kind === 'gas' || s.agentDef.kind === 'dust') {
    st.recent.push([r.ts, r.valueStd]);
    let drop = 0;
    while (drop < st.recent.length && st.recent[drop]![0] < r.ts - TREND_WINDOW_MS) drop++;
    drop = Math.max(drop, st.recent.length - TREND_MAX_POINTS);
    if (drop > 0) st.recent.splice(0, drop);
  }
  if (!evaluateNow) return;

  const { alerts } = e;
  const m = st.window.metrics(r.ts);
  for (const v of evaluate(s.agentDef, limits, m, r.valueStd, e.noiseRuleOf(s), e.excursionRuleOf(s))) {
    if (v.reason && (v.rule === 'twa' || v.rule === 'lex8h' || v.rule === 'radon-mean')) v.reason.coverage = Math.round(m.coverage8h * 1000) / 1000;
    e.apply(s, v.rule, v.level, v.reason);
  }
  if (pcTwaOnly) {
    if (excursion) e.apply(s, 'excursion', 'orange', excursionReason(excursion, pcTwaOnly, s.agentDef.unit));
    else e.apply(s, 'excursion', undefined);
  } else {
    // No excursion rule here: an `excursion` or `peak` alert restored from the store (raised
    // under the enterprise's former profile, or before these rules were gated by profile)
    // has nothing left to clear it, so it ends now.
    for (const rule of ['excursion', 'peak']) if (alerts.isActive(s.id, rule)) alerts.clearNow(s.id, rule);
  }
  if (limits && (s.agentDef.kind === 'gas' || s.agentDef.kind === 'dust')) {
    const shift = e.shiftOf(s, r.ts);
    const recentLevel = m.coverage15 > 0 ? m.stel15 / m.coverage15 : r.valueStd;
    const fc = forecast({
      limits, unit: s.agentDef.unit, now: r.ts, recent: st.recent, recentLevel, dose15: m.stel15 * 15 * 60_000,
      shift: shift ? { dose: st.window.dose(shift.startMs, r.ts).dose, endMs: shift.endMs } : undefined,
    });
    for (const rule of FORECAST_RULES) {
      const f = fc.find((x) => x.rule === rule);
      // Not beside an active alert of the same limit; one already up is cleared at once (its alert came).
      if (alerts.isActive(s.id, FORECAST_LIMIT_RULE[rule])) {
        if (alerts.isActive(s.id, rule)) alerts.clearNow(s.id, rule);
      } else e.apply(s, rule, f ? 'blue' : undefined, f?.reason);
    }
  }
  const { active, ended } = e.faults.reading(s.id, r.ts, r.valueStd, r.clamped === true);
  for (const f of active) e.apply(s, `fault-${f}`, FAULT_LEVEL, faultReason(f, s, r.valueStd));
  for (const f of ended) if (alerts.isActive(s.id, `fault-${f}`)) e.apply(s, `fault-${f}`, undefined);
}

/** The counting period of peak excursions: the shift the reading falls in, else its local day. */
function periodStart(e: EngineState, s: SensorEntry, ts: number): number {
  const shift = e.shiftOf(s, ts);
  if (shift) return shift.startMs;
  const tz = e.deps.registry.current.enterprises.get(s.enterpriseId)?.timezone ?? 'Asia/Shanghai';
  const offset = tzOffsetMs(tz, ts);
  return Math.floor((ts + offset) / 86_400_000) * 86_400_000 - offset;
}
