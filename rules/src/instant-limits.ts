import type { Agent, AgentLimits } from '../../core/src/agents.ts';
import type { AlertLevel, AlertReason } from '../../core/src/types.ts';

export interface InstantVerdict {
  rule: string;
  level: AlertLevel;
  reason: AlertReason;
}

/** Fraction of the limit below which a fired instant rule counts as calm (hysteresis). */
export const CLEAR_FRACTION = 0.9;

/**
 * Checks a single reading against the limits that no reading may pass:
 * - MAC: GBZ 2.1-2019 §3 (definition of MAC): not to be exceeded at any time → red;
 * - 5 × PC-TWA for agents with a PC-TWA only, dusts included: the absolute ceiling of the
 *   GBZ 2.1-2019 peak-excursion rule (oel.md §A.1, status S) → red;
 * - PC-STEL as an instantaneous screen → orange (the 15-min STEL itself is evaluated by
 *   the exposure engine over its window);
 * - noise above 115 dB(A): GBZ/T 189.8-2007 Annex B Table B.1 (status S) → red.
 * Returns the verdict for the worst limit passed, or a calm marker per rule.
 */
export function checkInstant(agent: Agent, limits: AgentLimits | undefined, valueStd: number): { fired?: InstantVerdict; calmRules: string[] } {
  if (!limits) return { calmRules: [] };
  const checks: { rule: string; limit: number; level: AlertLevel; metric: string; source: string }[] = [];
  if (limits.mac) checks.push({ rule: 'mac', limit: limits.mac.value, level: 'red', metric: agent.kind === 'noise' ? 'LAeq,short' : 'concentration', source: limits.mac.source });
  if (limits.pcTwa && !limits.pcStel && !limits.mac) {
    checks.push({ rule: 'peak-5x', limit: 5 * limits.pcTwa.value, level: 'red', metric: 'concentration', source: `GBZ 2.1-2019 peak excursion (5 × PC-TWA); ${limits.pcTwa.source}` });
  }
  if (limits.pcStel) checks.push({ rule: 'stel-screen', limit: limits.pcStel.value, level: 'orange', metric: 'concentration', source: limits.pcStel.source });
  let fired: InstantVerdict | undefined;
  const calmRules: string[] = [];
  for (const c of checks) {
    if (valueStd > c.limit) {
      if (!fired) fired = { rule: c.rule, level: c.level, reason: { metric: c.metric, value: valueStd, limit: c.limit, unit: agent.unit, source: c.source } };
    } else if (valueStd < c.limit * CLEAR_FRACTION) {
      calmRules.push(c.rule);
    }
  }
  return { fired, calmRules };
}
