import type { Grade, GradeResult } from '../../core/src/types.ts';
/**
 * Risk grading per GBZ/T 229 (occupational hazard classification at workplaces).
 * Every table is data here, per edition, because the standards' texts were not available:
 * values are tagged in shared/reference/oel.md §C (2010 [M], 2025 [S]). Grades are
 * 0 相对无害 … Ⅳ 极重 / 高度, as numbers 0–4 with their labels.
 */
export type GradingEdition = 'GBZ/T229-2010' | 'GBZ/T229-2025';
export const GRADING_EDITIONS: readonly GradingEdition[] = ['GBZ/T229-2010', 'GBZ/T229-2025'];
/** The edition used when the registry names none: the 2025 editions, in force from 2026-02-01 (oel.md §0, S). */
export const DEFAULT_GRADING_EDITION: GradingEdition = 'GBZ/T229-2025';
/** The grade types live in core (the API reads them through live insights). */
export type { Grade, GradeResult };
export const GRADE_LABELS: Record<Grade, string> = { 0: '0 相对无害', 1: 'Ⅰ', 2: 'Ⅱ', 3: 'Ⅲ', 4: 'Ⅳ' };

/** Labour intensity Ⅰ–Ⅳ weights WL (GBZ/T 229.1/.2, same in both editions [M]/[S]). */
export const WL: Record<1 | 2 | 3 | 4, number> = { 1: 1.0, 2: 1.5, 3: 2.0, 4: 2.5 };

/** GBZ/T 229.4-2012 noise bands on LEX,8h in dB(A) [M]: Ⅰ 85–<90 轻度, Ⅱ 90–<94 中度, Ⅲ 94–<100 重度, Ⅳ ≥ 100 极重. */
export function gradeNoise(lex8h: number): GradeResult {
  const grade: Grade = lex8h >= 100 ? 4 : lex8h >= 94 ? 3 : lex8h >= 90 ? 2 : lex8h >= 85 ? 1 : 0;
  const names = ['相对无害', '轻度危害', '中度危害', '重度危害', '极重危害'];
  return { grade, label: `${GRADE_LABELS[grade]} ${grade ? names[grade] : ''}`.trim(), factors: { lex8h }, source: 'GBZ/T 229.4-2012 Table 1 (oel.md §C.1, status M)' };
}

/** WM for free SiO2 % bands < 10 / 10–50 / 50–80 / > 80. */
function wm(freeSilicaPct: number, edition: GradingEdition): number {
  const w = edition === 'GBZ/T229-2010' ? [1, 2, 4, 6] : [1, 2, 3, 4];
  return w[freeSilicaPct < 10 ? 0 : freeSilicaPct <= 50 ? 1 : freeSilicaPct <= 80 ? 2 : 3]!;
}

/** WB = 0 at or below the edition's threshold (2010: B ≤ 1; 2025: B ≤ 0.5), else B. */
const wb = (B: number, edition: GradingEdition) => (B <= (edition === 'GBZ/T229-2010' ? 1 : 0.5) ? 0 : B);

/**
 * GBZ/T 229.1 dust: G = WM × WB × WL, B = C_TWA / PC-TWA.
 * 2010 bands [M]: G = 0 → 0; ≤ 6 → Ⅰ 轻度; ≤ 16 → Ⅱ 中度; > 16 → Ⅲ 重度.
 * 2025 bands [S]: B ≤ 0.5 → 0; G ≤ 6 → Ⅱ 轻度; ≤ 16 → Ⅲ 中度; > 16 → Ⅳ 高度. The source
 * lists Ⅰ 行动水平 between, but with WB = B above 0.5 no G can fall there (oel.md §C.2
 * caution): Ⅰ is never assigned until the standard's text is read.
 */
export function gradeDust(opts: { twa: number; pcTwa: number; freeSilicaPct: number; labour: 1 | 2 | 3 | 4; edition: GradingEdition }): GradeResult {
  const B = opts.twa / opts.pcTwa;
  const f = { WM: wm(opts.freeSilicaPct, opts.edition), WB: wb(B, opts.edition), WL: WL[opts.labour], B };
  const G = f.WM * f.WB * f.WL;
  let grade: Grade;
  if (opts.edition === 'GBZ/T229-2010') grade = G === 0 ? 0 : G <= 6 ? 1 : G <= 16 ? 2 : 3;
  else grade = G === 0 ? 0 : G <= 6 ? 2 : G <= 16 ? 3 : 4;
  return { grade, label: GRADE_LABELS[grade], G, factors: f, source: `${opts.edition === 'GBZ/T229-2010' ? 'GBZ/T 229.1-2010 (oel.md §C.2, status M)' : 'GBZ/T 229.1-2025 (oel.md §C.2, status S)'}` };
}

/** WD from the GBZ 230 toxicity class: 轻度 1 / 中度 2 / 高度 4 / 极度 8 (both editions). */
export const WD: Record<'mild' | 'moderate' | 'high' | 'extreme', number> = { mild: 1, moderate: 2, high: 4, extreme: 8 };

/**
 * GBZ/T 229.2 chemicals: G = WD × WB × WL, B = the largest of C_TWA/PC-TWA, C_STE/PC-STEL,
 * C_max/MAC (2025: with a PC-TWA only, the peak ratio C_peak / (3 × PC-TWA) too).
 * Bands (both): G = 0 → 0; ≤ 6 → Ⅰ 轻度; ≤ 24 → Ⅱ 中度; > 24 → Ⅲ 重度.
 * 2025 [S]: B > 1 → at least Ⅱ; a carcinogen, mutagen, reprotoxin, sensitiser or skin
 * notation raises one grade (at most Ⅲ).
 */
export function gradeChemical(opts: {
  ratios: { twa?: number; stel?: number; mac?: number; peak?: number };
  wd: number;
  labour: 1 | 2 | 3 | 4;
  edition: GradingEdition;
  raiseOne?: boolean;
}): GradeResult {
  const r = opts.ratios;
  const B = Math.max(r.twa ?? 0, r.stel ?? 0, r.mac ?? 0, opts.edition === 'GBZ/T229-2025' ? r.peak ?? 0 : 0);
  const f = { WD: opts.wd, WB: wb(B, opts.edition), WL: WL[opts.labour], B };
  const G = f.WD * f.WB * f.WL;
  let grade: Grade = G === 0 ? 0 : G <= 6 ? 1 : G <= 24 ? 2 : 3;
  if (opts.edition === 'GBZ/T229-2025') {
    if (B > 1 && grade < 2) grade = 2;
    if (opts.raiseOne && grade > 0) grade = Math.min(3, grade + 1) as Grade;
  }
  return { grade, label: GRADE_LABELS[grade], G, factors: f, source: opts.edition === 'GBZ/T229-2010' ? 'GBZ/T 229.2-2010 (oel.md §C.3, status M)' : 'GBZ/T 229.2-2025 (oel.md §C.3, status S)' };
}

/** The enterprise grade is its worst monitoring point. */
export const worstGrade = (grades: readonly Grade[]): Grade => (grades.length ? (Math.max(...grades) as Grade) : 0);
