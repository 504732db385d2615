/**
 * The GBZ/T 229 grade of one monitoring point from its 8-h exposure: the one grading path
 * for the live engine (rules/src/engine.ts) and the auditor CLI (cli/exposure.ts). The
 * tables are in grading.ts (oel.md §C: 2010 [M], 2025 [S]).
 */
import type { Agent, AgentLimits, ExcursionRule } from '../../core/src/agents.ts';
import { excursionBound } from '../../core/src/excursion-rule.ts';
import { gradeChemical, gradeDust, gradeNoise, WD, type GradeResult, type GradingEdition } from './grading.ts';

/** What grading reads of a point's exposure over the assessed 8 h (one shift, or the last 8 h live). */
export interface PointExposure {
  /** C_TWA = ΣCiTi / 8 h (GBZ 2.1), in the agent unit. */
  twa8h: number;
  /** Highest 15-min C_STE in the period. */
  stel15max: number;
  /** Highest single value in the period. */
  peak: number;
  /** Noise: the profile's 8-h level (LEX,8h under GBZ 2.2), dB(A). */
  lex8h?: number;
}

/**
 * Grade a point. Noise: GBZ/T 229.4 bands on the 8-h level. Dust with a PC-TWA: GBZ/T 229.1
 * G = WM × WB × WL. Chemicals (or custom limits without an agent): GBZ/T 229.2 with B the
 * largest of C_TWA/PC-TWA, C_STE,max/PC-STEL, C_peak/MAC and, for an agent with a PC-TWA only,
 * the peak ratio C_peak / (3 × PC-TWA) (2025 edition, oel.md §C.3 [S]). The peak ratio rests
 * on GBZ 2.1-2019's 3 × PC-TWA excursion bound, so it counts only under a profile with that
 * rule (`excursionRule`, core/src/excursion-rule.ts): not under OSHA or NIOSH. Radon has no grade.
 */
export function gradePoint(opts: { agent: Agent | undefined; limits: AgentLimits; excursionRule: ExcursionRule | undefined; x: PointExposure; labour: 1 | 2 | 3 | 4; edition: GradingEdition }): GradeResult | undefined {
  const { agent, limits, excursionRule, x, labour, edition } = opts;
  const kind = agent?.kind ?? (limits.lex8h ? 'noise' : 'gas');
  if (kind === 'radon') return undefined;
  if (kind === 'noise') return gradeNoise(x.lex8h ?? -Infinity);
  if (kind === 'dust' && limits.pcTwa) {
    return gradeDust({ twa: x.twa8h, pcTwa: limits.pcTwa.value, freeSilicaPct: agent?.freeSilicaPct ?? 5, labour, edition });
  }
  const pe = excursionBound(excursionRule, kind, limits);
  const ratios = {
    twa: limits.pcTwa ? x.twa8h / limits.pcTwa.value : undefined,
    stel: limits.pcStel ? x.stel15max / limits.pcStel.value : undefined,
    mac: limits.mac ? x.peak / limits.mac.value : undefined,
    peak: pe ? x.peak / (3 * pe.pcTwa.value) : undefined,
  };
  return gradeChemical({ ratios, wd: WD[agent?.toxicity ?? 'moderate'], labour, edition, raiseOne: Boolean(agent?.carcinogen || agent?.sensitiser || agent?.skin) });
}
