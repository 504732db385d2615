import { sql, type Selectable } from 'kysely';
import { HwError } from '../../../core/src/errors.ts';
import { canonicalJson, entryHash, GENESIS_HASH } from '../audit-chain.ts';
import { checkPage, parseSeqCursor, toPage, type Page, type PageRequest } from '../page.ts';
import type { RecordsEngine } from '../records-url.ts';
import type { AuditTable } from '../schema.ts';
import { inTransaction, present, type Db } from './write.ts';

/** What happened, as the caller tells it. */
export interface AuditInput {
  ts: number;
  /** Who: a username, `gateway:<enterprise>/<id>`, or `system`. */
  actor: string;
  /** From where: the client address ('' for a command on the host). */
  address: string;
  /** What: `login`, `login-failed`, `user.disable`, `registry.import`, … */
  action: string;
  /** On what: `user:alice`, `gateway:coal-liuxin/gw1`, … */
  target: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditEntry extends Omit<AuditInput, 'before' | 'after'> {
  seq: number;
  before?: unknown;
  after?: unknown;
  prevHash: string;
  hash: string;
}

export type AuditVerdict =
  | { ok: true; entries: number; /** Hash of the last entry: keep it elsewhere to detect a cut tail. */ head: string }
  | { ok: false; entries: number; /** The first entry that does not check out. */ seq: number; reason: string };

/** Longest actor, address, action or target, characters. */
export const AUDIT_TEXT_MAX_CHARS = 256;
/** Longest before or after, as canonical JSON, characters (a registry row is far less). */
export const AUDIT_JSON_MAX_CHARS = 65_536;
/** Entries read per step of verify (memory stays bounded however long the log). */
const VERIFY_PAGE = 1000;

function checkInput(e: AuditInput): void {
  for (const f of ['actor', 'address', 'action', 'target'] as const) {
    if (typeof e[f] !== 'string' || e[f].length > AUDIT_TEXT_MAX_CHARS) throw new HwError('HW_ERR_FIELD_TOO_LONG', `audit ${f} is at most ${AUDIT_TEXT_MAX_CHARS} characters`);
  }
}

const jsonOf = (v: unknown, field: string): string | null => {
  if (v === undefined) return null;
  const text = canonicalJson(v);
  if (text.length > AUDIT_JSON_MAX_CHARS) throw new HwError('HW_ERR_FIELD_TOO_LONG', `audit ${field} is at most ${AUDIT_JSON_MAX_CHARS} characters of JSON`);
  return text;
};

const toEntry = (r: Selectable<AuditTable>): AuditEntry => ({
  seq: r.seq,
  ts: r.ts,
  actor: r.actor,
  address: r.address,
  action: r.action,
  target: r.target,
  prevHash: r.prev_hash,
  hash: r.hash,
  ...present({ before: r.before_json === null ? null : JSON.parse(r.before_json), after: r.after_json === null ? null : JSON.parse(r.after_json) }),
});

const recompute = (r: Selectable<AuditTable>) => entryHash({
  seq: r.seq, ts: r.ts, actor: r.actor, address: r.address, action: r.action, target: r.target,
  beforeJson: r.before_json, afterJson: r.after_json, prevHash: r.prev_hash,
});

/**
 * The audit log: append-only (this repository has no update or delete) and tamper-evident
 * (each entry's hash covers the previous entry's hash, so verify finds any change, removal
 * or insertion before the head).
 */
export function auditRepo(db: Db, engine: RecordsEngine) {
  return {
    /** Appends in order, in one transaction, serialised with every other appender. */
    async append(entries: readonly AuditInput[]): Promise<AuditEntry[]> {
      entries.forEach(checkInput);
      const texts = entries.map((e) => ({ before: jsonOf(e.before, 'before'), after: jsonOf(e.after, 'after') }));
      return inTransaction(db, async (tx) => {
        // PostgreSQL: other appenders wait here (readers do not), so no two entries chain
        // to the same head. SQLite: the write transaction is already the only one.
        if (engine === 'postgres') await sql`LOCK TABLE audit_log IN EXCLUSIVE MODE`.execute(tx);
        const head = await tx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
        let seq = head?.seq ?? 0;
        let prevHash = head?.hash ?? GENESIS_HASH;
        const out: AuditEntry[] = [];
        for (const [i, e] of entries.entries()) {
          seq += 1;
          const { before, after } = texts[i]!;
          const row: AuditTable = { seq, ts: e.ts, actor: e.actor, address: e.address, action: e.action, target: e.target, before_json: before, after_json: after, prev_hash: prevHash, hash: '' };
          row.hash = recompute(row);
          await tx.insertInto('audit_log').values(row).execute();
          out.push(toEntry(row));
          prevHash = row.hash;
        }
        return out;
      });
    },

    /** Newest first. */
    async list(page: PageRequest): Promise<Page<AuditEntry>> {
      checkPage(page);
      let q = db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(page.limit + 1);
      if (page.after !== undefined) q = q.where('seq', '<', parseSeqCursor(page.after));
      return toPage(await q.execute(), page.limit, toEntry, (r) => String(r.seq));
    },

    /** Walks the whole chain from the first entry; names the first entry that does not check out. */
    async verify(): Promise<AuditVerdict> {
      let expectedSeq = 1;
      let prevHash = GENESIS_HASH;
      for (;;) {
        const rows = await db.selectFrom('audit_log').selectAll().where('seq', '>=', expectedSeq).orderBy('seq').limit(VERIFY_PAGE).execute();
        for (const r of rows) {
          const entries = expectedSeq - 1;
          if (r.seq !== expectedSeq) return { ok: false, entries, seq: expectedSeq, reason: `entry ${expectedSeq} is missing (the next is ${r.seq})` };
          if (r.prev_hash !== prevHash) return { ok: false, entries, seq: r.seq, reason: 'prev_hash is not the hash of the entry before it' };
          if (recompute(r) !== r.hash) return { ok: false, entries, seq: r.seq, reason: 'hash does not match the entry (it was changed after it was written)' };
          prevHash = r.hash;
          expectedSeq += 1;
        }
        if (rows.length < VERIFY_PAGE) return { ok: true, entries: expectedSeq - 1, head: prevHash };
      }
    },
  };
}

export type AuditRepo = ReturnType<typeof auditRepo>;
