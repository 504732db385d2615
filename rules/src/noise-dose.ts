/**
 * Noise dose and the 8-h level under a profile's rule: the one implementation that the
 * auditor CLI (cli/exposure.ts) and the live engine (rules/src/engine.ts) both use.
 *
 * - OSHA 29 CFR 1910.95 Appendix A: D = 100·Σ Cn/Tn, Tn = 8 h / 2^((L − 90)/5), levels from
 *   80 dB(A) counted; TWA = 16.61·lg(D/100) + 90 (oel.md §E.1, status V). Action level
 *   85 dB(A) = 50 % dose (1910.95(c)).
 * - NIOSH 98-126: Tn = 8 h / 2^((L − 85)/3), TWA = 10·lg(D/100) + 85 (oel.md §E.2, V).
 * - GBZ 2.2-2007 (equal energy, ISO 9612 form): LEX,8h = 10·lg[(1/8 h)·Σ Ti·10^(0.1·Li)]
 *   (oel.md §B, M). As a dose: Tn = 8 h / 10^((L − 85)/10), so 10·lg(D/100) + 85 is LEX,8h exactly.
 *
 * The streaming engine adds `doseRate(L)` per ms to its exposure window, so the window's
 * 8-h mean is D / 100 and the same functions turn it into the TWA.
 */
import type { AgentLimits, NoiseRule } from '../../core/src/agents.ts';

const H8 = 8 * 3600_000;

/** A profile without a noise rule is assessed as GBZ 2.2-2007 (85 dB(A), equal energy), the default profile's rule. */
export const DEFAULT_NOISE_RULE: NoiseRule = { criterionDb: 85, exchangeRateDb: 3, equalEnergy: true, source: 'GBZ 2.2-2007 (LEX,8h 85 dB(A), equal energy)', status: 'M' };

/**
 * Dose per 8 h at a constant level, as a fraction (1 = 100 % of the daily dose after 8 h):
 * 8 h / Tn. Zero below the rule's threshold (OSHA: levels under 80 dB(A) do not count).
 */
export function doseRate(levelDb: number, rule: NoiseRule): number {
  if (rule.thresholdDb !== undefined && levelDb < rule.thresholdDb) return 0;
  const over = levelDb - rule.criterionDb;
  return rule.equalEnergy ? 10 ** (over / 10) : 2 ** (over / rule.exchangeRateDb);
}

/** Tn: hours at `levelDb` that make a 100 % dose (Table G-16a for OSHA); Infinity below the threshold. */
export const allowedHours = (levelDb: number, rule: NoiseRule): number => 8 / doseRate(levelDb, rule);

/** Dose % of measured segments (time not covered counts as quiet). */
export function dosePct(segs: readonly { startMs: number; endMs: number; value: number }[], rule: NoiseRule): number {
  let d = 0;
  for (const s of segs) d += ((s.endMs - s.startMs) / H8) * doseRate(s.value, rule);
  return 100 * d;
}

/** k in TWA = k·lg(D/100) + criterion: the standard's printed factor, else exchange / lg 2 (10 for exact equal energy). */
const twaFactor = (rule: NoiseRule) => rule.twaFactorDb ?? (rule.equalEnergy ? 10 : rule.exchangeRateDb / Math.log10(2));

/** The 8-h level of a dose: OSHA TWA = 16.61·lg(D/100) + 90 (App. A Table A-1); −Infinity for no dose. */
export function doseToTwa(dosePercent: number, rule: NoiseRule): number {
  return dosePercent > 0 ? twaFactor(rule) * Math.log10(dosePercent / 100) + rule.criterionDb : -Infinity;
}

/** The dose % an 8-h level stands for (the inverse of doseToTwa). */
export function twaToDose(twaDb: number, rule: NoiseRule): number {
  return 100 * 10 ** ((twaDb - rule.criterionDb) / twaFactor(rule));
}

/**
 * Levels are compared at 1e-6 dB: a dose summed in floating point as 0.9999999999 or
 * 1.0000000001 of an exact 100 % must not turn a compliant shift into an exceedance.
 */
export const roundDb = (db: number) => (Number.isFinite(db) ? Math.round(db * 1e6) / 1e6 : db);

export interface NoiseThresholds {
  /** The limit on the 8-h level (orange above it). */
  limitDb: number;
  limitSource: string;
  /** The action level (yellow at or above it). */
  actionDb: number;
  actionSource: string;
}

/** A profile's limit and action level for noise: its limits data, else its criterion and 50 % of the dose. */
export function noiseThresholds(rule: NoiseRule, limits: AgentLimits | undefined): NoiseThresholds {
  const limitDb = limits?.lex8h?.value ?? rule.criterionDb;
  const limitSource = limits?.lex8h?.source ?? rule.source;
  if (limits?.action) return { limitDb, limitSource, actionDb: limits.action.value, actionSource: limits.action.source };
  // No action level in the profile: half the daily dose (the ½-OEL convention, oel.md §A.1 [S]; OSHA's 85 dB(A) is 50 % too).
  return { limitDb, limitSource, actionDb: roundDb(doseToTwa(50, rule)), actionSource: `50 % of the daily dose; ${rule.source}` };
}

/** Dose % and the profile's 8-h level from a dose fraction (what the engine's window holds as its 8-h mean). */
export function assessDose(doseFraction: number, rule: NoiseRule): { dosePct: number; twaDb: number } {
  const d = 100 * doseFraction;
  return { dosePct: d, twaDb: doseToTwa(d, rule) };
}
