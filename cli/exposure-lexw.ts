import { lexWeekly } from '../rules/src/segments.ts';
import { ArgError, argFailure, okJson, parseNumber } from './cli-args.ts';
import type { CliResult } from './exposure.ts';

export const LEXW_USAGE = `usage: hazardwatch exposure lexw <LEX,8h day 1> … <day n>   (1 to 7 daily levels in dB(A))
  LEX,w = 10·lg[(1/5)·Σ 10^(0.1·LEX,8h,i)] over the days worked (ISO 1999 / ISO 9612; EU 2003/10/EC Art. 2(b):
  the nominal week is five 8-h days). The sum always divides by 5: a 6-day week adds its sixth day's energy,
  so six days at 85 dB(A) give 85 + 10·lg(6/5) = 85.8 dB(A); a day not worked is left out.`;

/** Highest LEX,8h accepted: well above any real exposure (140 dB(C) is the EU peak limit). */
const MAX_DB = 200;

/** `hazardwatch exposure lexw 90 85 85 80 80` → `{ lexW }`. */
export function runLexw(argv: readonly string[]): CliResult {
  try {
    if (argv.length < 1 || argv.length > 7) throw new ArgError(`give 1 to 7 daily LEX,8h values (one per day worked in the week), got ${argv.length}`);
    const days = argv.map((a, i) => {
      const v = parseNumber(a, `day ${i + 1}`);
      if (v < 0 || v > MAX_DB) throw new ArgError(`day ${i + 1}: LEX,8h must be between 0 and ${MAX_DB} dB(A), got ${v}`);
      return v;
    });
    const lexW = lexWeekly(days);
    return okJson({ lexW, days: days.length, divisor: 5, unit: 'dB(A)', source: 'ISO 1999 / ISO 9612 weekly noise exposure level; EU 2003/10/EC Art. 2(b): nominal week of five 8-h days' });
  } catch (err) {
    if (err instanceof ArgError) return argFailure(err, LEXW_USAGE);
    throw err;
  }
}
