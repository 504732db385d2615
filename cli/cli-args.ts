import { ERRORS } from '../core/src/errors.ts';
import type { CliResult } from './exposure.ts';

/** A command-line mistake: printed as one JSON object on stderr with its code, exit 2. */
export class ArgError extends Error {}

export function argFailure(err: ArgError, usage: string): CliResult {
  const error = { code: 'HW_ERR_BAD_ARGUMENT' as const, message: `${ERRORS.HW_ERR_BAD_ARGUMENT.message}: ${err.message}`, usage };
  return { code: 2, stdout: '', stderr: `${JSON.stringify({ error })}\n` };
}

export function okJson(out: object): CliResult {
  return { code: 0, stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: '' };
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const MAX_ARGS = 64;

/** A plain decimal number (no hex, no Infinity, no empty string: Number('') is 0). */
export function parseNumber(text: string | undefined, what: string): number {
  if (text === undefined || !NUMBER.test(text.trim())) throw new ArgError(`${what} must be a number, got ${JSON.stringify(String(text ?? '').slice(0, 40))}`);
  const n = Number(text);
  if (!Number.isFinite(n)) throw new ArgError(`${what} is out of range`);
  return n;
}

/** `--name value` pairs; every flag must be one the command knows and appear once. */
export function parseFlags(argv: readonly string[], known: readonly string[]): Map<string, string> {
  if (argv.length > MAX_ARGS) throw new ArgError(`too many arguments (at most ${MAX_ARGS})`);
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new ArgError(`unexpected argument ${JSON.stringify(a.slice(0, 40))}`);
    const name = a.slice(2);
    if (!known.includes(name)) throw new ArgError(`unknown option --${name.slice(0, 40)} (known: ${known.map((k) => `--${k}`).join(', ')})`);
    if (out.has(name)) throw new ArgError(`--${name} given twice`);
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new ArgError(`--${name} needs a value`);
    out.set(name, v);
  }
  return out;
}
