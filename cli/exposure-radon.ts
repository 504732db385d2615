import { ICRP137_MSV_PER_MJ_H, MJ_H_PER_BQ_H_EEC, radonDoseMSv } from '../rules/src/radon-dose.ts';
import { ArgError, argFailure, okJson, parseFlags, parseNumber } from './cli-args.ts';
import type { CliResult } from './exposure.ts';

export const RADON_USAGE = `usage: hazardwatch exposure radon --bq <annual mean Bq/m3> --equilibrium <F, 0 < F ≤ 1> --hours <hours at work a year, ≤ 8784>
  mSvPerYear = Bq/m3 × F × hours × 5.56e-6 mJ·h/m3 per Bq·h/m3 EEC × 3 mSv per mJ·h/m3 (ICRP Publication 137).`;

/** Bounds: a year has at most 8784 h; 1e7 Bq/m3 is far above any workplace measured. */
const MAX_BQ = 1e7;
const MAX_HOURS_A_YEAR = 8784;

/** `hazardwatch exposure radon --bq 1000 --equilibrium 0.4 --hours 2000` → `{ mSvPerYear }`. */
export function runRadon(argv: readonly string[]): CliResult {
  try {
    const f = parseFlags(argv, ['bq', 'equilibrium', 'hours']);
    for (const k of ['bq', 'equilibrium', 'hours']) if (!f.has(k)) throw new ArgError(`--${k} is required`);
    const bq = parseNumber(f.get('bq'), '--bq');
    const eq = parseNumber(f.get('equilibrium'), '--equilibrium');
    const hours = parseNumber(f.get('hours'), '--hours');
    if (!(bq >= 0 && bq <= MAX_BQ)) throw new ArgError(`--bq must be in [0, ${MAX_BQ}] Bq/m3, got ${bq}`);
    if (!(eq > 0 && eq <= 1)) throw new ArgError(`--equilibrium must be in (0, 1], got ${eq}`);
    if (!(hours > 0 && hours <= MAX_HOURS_A_YEAR)) throw new ArgError(`--hours must be in (0, ${MAX_HOURS_A_YEAR}], got ${hours}`);
    return okJson({
      mSvPerYear: radonDoseMSv(bq, eq, hours),
      exposureMJhPerM3: bq * eq * hours * MJ_H_PER_BQ_H_EEC,
      doseCoefficientMSvPerMJhM3: ICRP137_MSV_PER_MJ_H,
      source: 'ICRP Publication 137 (2017): 3 mSv per mJ·h·m⁻³ for workers in buildings and mines; 1 Bq·h·m⁻³ EEC = 5.56e-6 mJ·h·m⁻³',
    });
  } catch (err) {
    if (err instanceof ArgError) return argFailure(err, RADON_USAGE);
    throw err;
  }
}
