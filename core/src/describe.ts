/**
 * Short, safe descriptions of untrusted values for rejection reasons. None of these
 * throws, whatever it is given, and each output is bounded: no JSON.stringify of a value
 * of untrusted depth (it overflows the stack on a deeply nested array), no toISOString of
 * an untrusted number (it throws beyond ±8.64e15 ms), no echo of a whole untrusted string.
 */

/** Characters of an untrusted string echoed back. */
export const ECHO_MAX_CHARS = 40;

/** At most `max` characters of `s`, then a count of what was left out. */
export function echo(s: string, max = ECHO_MAX_CHARS): string {
  return s.length <= max ? s : `${s.slice(0, max)}…(${s.length} chars)`;
}

/** A one-line description of any value: its type and a short prefix, never its depth. */
export function describeValue(v: unknown): string {
  switch (typeof v) {
    case 'string':
      // Stringify only the (bounded) prefix: quotes and escapes control characters.
      return v.length <= ECHO_MAX_CHARS ? JSON.stringify(v) : `${JSON.stringify(v.slice(0, ECHO_MAX_CHARS))}…(${v.length} chars)`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    case 'undefined':
      return 'undefined (missing)';
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of ${v.length}`;
      return describeKeys(v);
    default:
      return `a ${typeof v}`;
  }
}

function describeKeys(o: object): string {
  const keys: string[] = [];
  let n = 0;
  // for..in stops early: Object.keys would list every key of a huge object.
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    if (++n <= 3) keys.push(echo(k, 20));
    else break;
  }
  if (n === 0) return 'an empty object';
  return `an object {${keys.join(', ')}${n > 3 ? ', …' : ''}}`;
}

/** Largest |ms| a Date can hold (ECMA-262 §21.4.1.1: ±8.64e15 ms). */
const DATE_MAX_MS = 8.64e15;

/** An epoch-ms time as ISO 8601 when a Date can hold it, else the number itself. */
export function describeTime(ms: number): string {
  return typeof ms === 'number' && Number.isFinite(ms) && Math.abs(ms) <= DATE_MAX_MS ? new Date(ms).toISOString() : `${describeValue(ms)} ms`;
}
