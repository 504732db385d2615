import { HwError } from '../../core/src/errors.ts';
import { checkPage as checkLimit, MAX_PAGE_SIZE } from '../../core/src/store/time-range.ts';

export { MAX_PAGE_SIZE };
/** Longest cursor accepted (ids are at most 64 characters; a cursor holds at most two and a time). */
const CURSOR_MAX_CHARS = 200;

/** Keyset pagination: `after` is the `next` of the previous page (opaque to callers). */
export interface PageRequest {
  /** 1 … MAX_PAGE_SIZE rows. */
  limit: number;
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when there may be more rows: pass it as `after` for the next page. */
  next?: string;
}

/** Refuses a page size outside 1 … MAX_PAGE_SIZE or an oversized cursor (HW_ERR_BAD_RANGE). */
export function checkPage(p: PageRequest): void {
  checkLimit(p.limit, 0);
  if (p.after !== undefined && (typeof p.after !== 'string' || p.after.length > CURSOR_MAX_CHARS)) {
    throw new HwError('HW_ERR_BAD_RANGE', `after: a page cursor is at most ${CURSOR_MAX_CHARS} characters`);
  }
}

/**
 * Rows were read with limit + 1 to learn whether another page follows; `cursorOf` makes
 * the cursor from the last row kept.
 */
export function toPage<R, T>(rows: R[], limit: number, map: (r: R) => T, cursorOf: (r: R) => string): Page<T> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const page: Page<T> = { items: kept.map(map) };
  if (more) page.next = cursorOf(kept[kept.length - 1]!);
  return page;
}

/** A cursor of two keys, (time, id) or (enterprise, gateway): `<a>~<b>`; `a` holds no `~`. */
export const pairCursor = (a: string | number, b: string) => `${a}~${b}`;

export function parsePairCursor(cursor: string): [string, string] {
  const at = cursor.indexOf('~');
  if (at < 1) throw new HwError('HW_ERR_BAD_RANGE', 'after: not a cursor this list handed out');
  return [cursor.slice(0, at), cursor.slice(at + 1)];
}

export function parseTimeCursor(cursor: string): { ts: number; id: string } {
  const [a, id] = parsePairCursor(cursor);
  const ts = Number(a);
  if (!Number.isSafeInteger(ts)) throw new HwError('HW_ERR_BAD_RANGE', 'after: not a cursor this list handed out');
  return { ts, id };
}

export function parseSeqCursor(cursor: string): number {
  const n = Number(cursor);
  if (!Number.isSafeInteger(n) || n < 0) throw new HwError('HW_ERR_BAD_RANGE', 'after: not a cursor this list handed out');
  return n;
}
