import type { Agent, AgentLimits, ExcursionRule, LimitValue } from './agents.ts';

/**
 * The one gate for the short-excursion rule (review 1 finding 5): the PC-TWA that the
 * profile's excursion rule bounds, or undefined where no such rule applies. It applies when
 *   - the profile's standard has one (`excursionRule` in core/data/limits/*.yaml: GBZ 2.1-2019
 *     peak exposure, oel.md §A.1, status S; OSHA and NIOSH have none in the reference), and
 *   - the agent is a gas or dust with a PC-TWA and neither a PC-STEL nor a MAC (the agents the
 *     GBZ 2.1-2019 rule covers, dusts included).
 * Used by the live engine (`excursion`, rules/src/engine.ts), the `peak` rule (evaluate.ts),
 * the GBZ/T 229.2 peak ratio (grade-point.ts) and the auditor CLI (cli/exposure.ts).
 */
export interface ExcursionBound { pcTwa: LimitValue; rule: ExcursionRule }

export function excursionBound(rule: ExcursionRule | undefined, kind: Agent['kind'], limits: AgentLimits | undefined): ExcursionBound | undefined {
  if (!rule || !limits?.pcTwa || limits.pcStel || limits.mac) return undefined;
  return kind === 'gas' || kind === 'dust' ? { pcTwa: limits.pcTwa, rule } : undefined;
}

/** The excursion rule as an alert reason cites it, followed by the PC-TWA's own source. */
export const excursionSource = (b: ExcursionBound) => `${b.rule.source} (status ${b.rule.status}); ${b.pcTwa.source}`;
