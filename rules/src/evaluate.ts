import type { Agent, AgentLimits, ExcursionRule, NoiseRule } from '../../core/src/agents.ts';
import { excursionBound, excursionSource } from '../../core/src/excursion-rule.ts';
import { doseToTwa, noiseThresholds, roundDb } from './noise-dose.ts';
import type { AlertLevel, AlertReason } from '../../core/src/types.ts';
import type { WindowMetrics } from './window.ts';

/**
 * Alert levels (蓝/黄/橙/红), documented in README "Alert levels":
 * - blue   (蓝) forecast: an exceedance is expected (early-warning.ts);
 * - yellow (黄) at or above the action level, ½ OEL (GBZ 2.1-2019 action level, oel.md §A.1 [S]);
 *               for noise the profile's action level on its 8-h level (GBZ 80 dB(A) LEX,8h:
 *               GBZ 188 / EU 2003/10/EC; OSHA 85 dB(A) TWA = 50 % dose; else 50 % dose);
 * - orange (橙) above the OEL: C_TWA > PC-TWA, C_STE > PC-STEL, the profile's 8-h noise level
 *               above its limit (GBZ 2.2-2007 LEX,8h 85; OSHA TWA 90 = 100 % dose, noise-dose.ts),
 *               radon mean above the reference level; for TWA-only agents, under a profile
 *               whose standard has an excursion rule (GBZ 2.1-2019), that rule broken
 *               (engine.ts with peak-excursions.ts);
 * - red    (红) above the MAC, or above 5 × PC-TWA for TWA-only agents, dusts included, under
 *               the same profiles (GBZ 2.1-2019 peak excursion, never > 5 × PC-TWA), or noise
 *               above 115 dB(A) (GBZ/T 189.8-2007 Annex B).
 * Each rule is its own alert key; a rule clears below CLEAR_FRACTION of its lowest
 * trigger, after the engine's hold time.
 */
export const CLEAR_FRACTION = 0.9;

export interface Verdict {
  rule: string;
  /** undefined = calm (below the clear threshold); 'hold' = between clear and trigger. */
  level: AlertLevel | 'hold' | undefined;
  reason?: AlertReason;
}

interface Step { at: number; level: AlertLevel; limit: number; metric: string; source: string; strict: boolean }
/** What a rule is compared on: the reading itself or one of the window metrics. */
type Input = 'reading' | 'noiseTwa' | 'radonMean' | 'twa8h' | 'stel15';
interface RuleDef { rule: string; input: Input; steps: Step[]; lowest: number }

/** Level for a value against ordered thresholds, with the clear band below the lowest. */
function grade(d: RuleDef, value: number, unit: string): Verdict {
  for (const s of d.steps) {
    if (s.strict ? value > s.at : value >= s.at) return { rule: d.rule, level: s.level, reason: { metric: s.metric, value, limit: s.limit, unit, source: s.source } };
  }
  return { rule: d.rule, level: value < d.lowest * CLEAR_FRACTION ? undefined : 'hold' };
}

const def = (rule: string, input: Input, steps: Step[]): RuleDef => ({ rule, input, steps, lowest: Math.min(...steps.map((s) => s.at)) });

/** The rules of an agent under its limits; built once per limits object (they are immutable catalogue data). */
function buildRules(agent: Agent, limits: AgentLimits, noiseRule: NoiseRule, excursionRule: ExcursionRule | undefined): RuleDef[] {
  const out: RuleDef[] = [];
  if (agent.kind === 'noise') {
    // The window holds the dose (noise-dose.ts); the rule compares the profile's 8-h level from it.
    const n = noiseThresholds(noiseRule, limits);
    out.push(def('lex8h', 'noiseTwa', [
      { at: n.limitDb, level: 'orange', limit: n.limitDb, metric: 'LEX,8h / 8-h TWA', source: n.limitSource, strict: true },
      { at: n.actionDb, level: 'yellow', limit: n.actionDb, metric: 'LEX,8h / 8-h TWA', source: `action level ${n.actionDb} dB(A): ${n.actionSource}`, strict: false },
    ]));
    if (limits.mac) out.push(def('mac', 'reading', [{ at: limits.mac.value, level: 'red', limit: limits.mac.value, metric: 'LAeq,short', source: limits.mac.source, strict: true }]));
    return out;
  }
  if (agent.kind === 'radon') {
    const ref = limits.reference;
    if (!ref) return out;
    out.push(def('radon-mean', 'radonMean', [
      { at: ref.value, level: 'orange', limit: ref.value, metric: 'running mean', source: ref.source, strict: true },
      { at: ref.value / 2, level: 'yellow', limit: ref.value / 2, metric: 'running mean', source: `½ reference level; ${ref.source}`, strict: false },
    ]));
    return out;
  }
  if (limits.mac) {
    out.push(def('mac', 'reading', [
      { at: limits.mac.value, level: 'red', limit: limits.mac.value, metric: 'concentration', source: limits.mac.source, strict: true },
      { at: limits.mac.value / 2, level: 'yellow', limit: limits.mac.value / 2, metric: 'concentration', source: `action level ½ MAC; ${limits.mac.source}`, strict: false },
    ]));
  }
  if (limits.pcTwa) {
    const t = limits.pcTwa;
    out.push(def('twa', 'twa8h', [
      { at: t.value, level: 'orange', limit: t.value, metric: 'C_TWA (8 h)', source: t.source, strict: true },
      { at: t.value / 2, level: 'yellow', limit: t.value / 2, metric: 'C_TWA (8 h)', source: `action level ½ PC-TWA; ${t.source}`, strict: false },
    ]));
    // Only where the profile's standard bounds excursions (excursion-rule.ts): OSHA and NIOSH do not.
    const pe = excursionBound(excursionRule, agent.kind, limits);
    if (pe) {
      out.push(def('peak', 'reading', [{ at: 5 * t.value, level: 'red', limit: 5 * t.value, metric: 'concentration (5 × PC-TWA)', source: excursionSource(pe), strict: true }]));
      // The 3 × PC-TWA excursions (≤ 15 min, ≤ 4 a shift, ≥ 1 h apart) are the engine's
      // `excursion` rule, tracked over time in peak-excursions.ts.
    }
  }
  if (limits.pcStel) {
    out.push(def('stel', 'stel15', [{ at: limits.pcStel.value, level: 'orange', limit: limits.pcStel.value, metric: 'C_STE (15 min)', source: limits.pcStel.source, strict: true }]));
  }
  return out;
}

const rulesCache = new WeakMap<AgentLimits, Map<string, { rule: NoiseRule; excursionRule: ExcursionRule | undefined; defs: RuleDef[] }>>();
function rulesOf(agent: Agent, limits: AgentLimits, noiseRule: NoiseRule, excursionRule: ExcursionRule | undefined): RuleDef[] {
  let byAgent = rulesCache.get(limits);
  if (!byAgent) rulesCache.set(limits, (byAgent = new Map()));
  let entry = byAgent.get(agent.key);
  // A profile that extends another shares its limits objects but may have its own noise or excursion rule.
  if (!entry || entry.rule !== noiseRule || entry.excursionRule !== excursionRule) {
    byAgent.set(agent.key, (entry = { rule: noiseRule, excursionRule, defs: buildRules(agent, limits, noiseRule, excursionRule) }));
  }
  return entry.defs;
}

/**
 * All rule verdicts for one sensor after a reading. For noise `m` holds the dose
 * (m.twa8h = D/100 over the last 8 h) under `noiseRule`, the profile's rule. `excursionRule`
 * is the profile's (LimitProfile.excursionRule): without one there is no `peak` rule.
 */
export function evaluate(agent: Agent, limits: AgentLimits | undefined, m: WindowMetrics, reading: number, noiseRule: NoiseRule, excursionRule: ExcursionRule | undefined): Verdict[] {
  if (!limits) return [];
  const rules = rulesOf(agent, limits, noiseRule, excursionRule);
  const out: Verdict[] = new Array(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const d = rules[i]!;
    let v: number;
    switch (d.input) {
      case 'reading': v = reading; break;
      case 'noiseTwa': v = Math.max(roundDb(doseToTwa(100 * m.twa8h, noiseRule)), -1e3); break;
      // Radon: running mean over the measured time (radon limits are annual means: never a spot value).
      case 'radonMean': v = m.coverage8h > 0 ? m.twa8h / m.coverage8h : 0; break;
      case 'twa8h': v = m.twa8h; break;
      case 'stel15': v = m.stel15; break;
    }
    out[i] = grade(d, v, agent.unit);
  }
  return out;
}
