/**
 * Effective dose from radon at work, ICRP Publication 137 (OIR Part 3, 2017): for workers
 * in buildings and underground mines the dose coefficient is 3 mSv per mJ·h·m⁻³ (≈ 10 mSv
 * per WLM; 6 mSv per mJ·h·m⁻³ for substantial physical activity indoors and tourist caves,
 * not offered here). ICRP states it as ≈ 6.7 nSv per Bq·h·m⁻³ of radon gas at an
 * equilibrium factor of 0.4 (ICRP summary, Ann. ICRP 49(1 suppl), 2020) [V].
 *
 * Exposure to progeny: 1 Bq·h·m⁻³ EEC = 5.56 × 10⁻⁶ mJ·h·m⁻³ (ICRP 65 ¶17 [M]; consistent
 * with ICRP's 6.7 nSv: 3 × 0.4 × 5.56e-6 = 6.67e-6 mSv [C]).
 *   E (mSv) = C_Rn (Bq/m³) × F × t (h) × 5.56e-6 × 3
 */
export const MJ_H_PER_BQ_H_EEC = 5.56e-6;
export const ICRP137_MSV_PER_MJ_H = 3;

export function radonDoseMSv(bqPerM3: number, equilibriumFactor: number, hours: number): number {
  return bqPerM3 * equilibriumFactor * hours * MJ_H_PER_BQ_H_EEC * ICRP137_MSV_PER_MJ_H;
}
