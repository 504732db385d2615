/**
 * The shape of one entry on a hazardwatch Redis stream, its codec, and the parsing of
 * Redis's stream replies. An entry holds one or more messages, each as a pair of fields:
 * `k` (the partition key, e.g. the enterprise id) then `d` (the encoded payload). A log
 * may pack several messages of one partition into one entry (`maxPerEntry`): they share
 * the entry's id and are acknowledged together.
 */
import { HwError } from '../errors.ts';

/** Turns payloads into stream field values and back; `decode` throws on a bad value. */
export interface Codec<T> {
  encode(payload: T): string;
  decode(data: string): T;
}

/** JSON codec, the default: the payload must survive JSON.stringify / JSON.parse. */
export function jsonCodec<T>(): Codec<T> {
  return { encode: (p) => JSON.stringify(p), decode: (d) => JSON.parse(d) as T };
}

/** One entry as Redis stores it, before decoding: its messages in order. */
export interface RawEntry {
  id: string;
  items: { key: string; data: string }[];
}

/** One entry as a handler sees it. */
export interface StreamEntry<T> {
  /** Redis entry id `<ms>-<seq>`: increasing within its stream, shared by the messages packed in one entry. */
  id: string;
  /** The partition (0 … P-1) for a partitioned log; 0 for a single stream. */
  partition: number;
  key: string;
  payload: T;
}

const ID = /^(\d{1,20})-(\d{1,20})$/;

/** Checks an entry id that came from outside (a client's `since`); throws HW_ERR_BAD_EVENT_ID. */
export function parseEntryId(id: unknown): string {
  if (typeof id !== 'string' || !ID.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 48)) : typeof id;
    throw new HwError('HW_ERR_BAD_EVENT_ID', shown);
  }
  return id;
}

/** Orders two entry ids numerically: negative when a < b, 0 when equal, positive when a > b. */
export function compareIds(a: string, b: string): number {
  const ma = ID.exec(a);
  const mb = ID.exec(b);
  if (!ma || !mb) throw new Error(`not stream ids: ${a}, ${b}`);
  const ta = BigInt(ma[1]!) - BigInt(mb[1]!);
  if (ta !== 0n) return ta < 0n ? -1 : 1;
  const sa = BigInt(ma[2]!) - BigInt(mb[2]!);
  return sa === 0n ? 0 : sa < 0n ? -1 : 1;
}

/**
 * One stream entry from a reply (`[id, [field, value, …]]`), or `{ id, missing: true }` when
 * Redis returns the id without fields (the entry was deleted while pending).
 */
export function parseEntry(raw: unknown): RawEntry | { id: string; missing: true } | undefined {
  if (!Array.isArray(raw) || typeof raw[0] !== 'string') return undefined;
  const id = raw[0];
  const fields = raw[1];
  if (!Array.isArray(fields)) return { id, missing: true };
  const items: { key: string; data: string }[] = [];
  let key: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const v = fields[i + 1];
    if (fields[i] === 'k' && typeof v === 'string') key = v;
    else if (fields[i] === 'd' && typeof v === 'string') {
      items.push({ key: key ?? '', data: v });
      key = undefined;
    }
  }
  // An entry written by something else (no k/d fields) is passed on as one empty message:
  // the codec rejects it and the consumer dead-letters it, never silently drops it.
  if (items.length === 0) items.push({ key: '', data: '' });
  return { id, items };
}

/** The entries of an XREAD / XREADGROUP reply (`[[stream, [entry, …]], …]`), by stream name. */
export function parseReadReply(reply: unknown): Map<string, ReturnType<typeof parseEntry>[]> {
  const out = new Map<string, ReturnType<typeof parseEntry>[]>();
  if (!Array.isArray(reply)) return out;
  for (const s of reply) {
    if (!Array.isArray(s) || typeof s[0] !== 'string' || !Array.isArray(s[1])) continue;
    out.set(s[0], s[1].map(parseEntry));
  }
  return out;
}

/** A flat `[name, value, name, value, …]` reply (XINFO) as an object. */
export function pairs(reply: unknown): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return o;
  for (let i = 0; i + 1 < reply.length; i += 2) if (typeof reply[i] === 'string') o[reply[i] as string] = reply[i + 1];
  return o;
}
