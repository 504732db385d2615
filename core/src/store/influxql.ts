import { HwError } from '../errors.ts';
import { checkTime } from './time-range.ts';

/**
 * Building InfluxQL from values that may come from outside, so that a query never fails
 * to parse. InfluxQL's scanner (influxql/scanner.go, ScanString) ends a string literal at
 * a raw newline and knows only the escapes \\ \' \" \n: every other character stands as
 * it is. Characters no id may hold (C0 controls other than the newline, DEL, unpaired
 * surrogates, which UTF-8 cannot encode) are refused with a coded 400, not sent.
 */

/** Control characters and unpaired UTF-16 surrogates. */
// eslint-disable-next-line no-control-regex
const UNREPRESENTABLE = /[\u0000-\u0009\u000b-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws HW_ERR_BAD_ID when `value` holds a character no id may hold. */
export function checkId(value: string, field: string): string {
  if (UNREPRESENTABLE.test(value)) throw new HwError('HW_ERR_BAD_ID', `${field} holds a control character or an unpaired surrogate`);
  return value;
}

/** An InfluxQL string literal (single-quoted) for any representable string. */
export function stringLiteral(value: string, field = 'id'): string {
  checkId(value, field);
  return `'${value.replace(/[\\'\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}'`;
}

/** An InfluxQL time literal in ms, for a time within the representable range. */
export function timeLiteral(ms: number, field = 'time'): string {
  return `${checkTime(ms, field)}ms`;
}

/** An InfluxQL double-quoted identifier (database, measurement names). */
export function identifier(name: string, field = 'identifier'): string {
  checkId(name, field);
  if (name.includes('\n')) throw new HwError('HW_ERR_BAD_ID', `${field} holds a newline`);
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
