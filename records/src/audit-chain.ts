import { createHash } from 'node:crypto';

/** prev_hash of the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level: one text for one value, whatever the key order it was built in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v);
}

/** The stored columns of an entry that its hash covers (everything but the hash itself). */
export interface ChainedFields {
  seq: number;
  ts: number;
  actor: string;
  address: string;
  action: string;
  target: string;
  beforeJson: string | null;
  afterJson: string | null;
  prevHash: string;
}

/**
 * sha256 over the previous hash and the entry's stored columns, as a JSON array (so no
 * field can bleed into the next). Changing any column of any entry, or removing or
 * reordering entries, breaks this entry's hash or the next one's prev_hash.
 */
export function entryHash(f: ChainedFields): string {
  const body = JSON.stringify([f.seq, f.ts, f.actor, f.address, f.action, f.target, f.beforeJson, f.afterJson]);
  return createHash('sha256').update(f.prevHash).update('\n').update(body).digest('hex');
}
