import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { RecordsDb } from '../schema.ts';

/** A connection or an open transaction: repositories run on either. */
export type Db = Kysely<RecordsDb>;

/**
 * Runs `fn` in a transaction: the caller's when it already holds one (an import writes
 * many repositories in one), a new one otherwise.
 */
export function inTransaction<T>(db: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  return db.isTransaction ? fn(db) : db.transaction().execute(fn);
}

/**
 * Rows per INSERT: SQLite binds at most 32,766 parameters per statement and PostgreSQL
 * 65,535; 500 rows × at most 20 columns stays well inside both.
 */
export const INSERT_CHUNK_ROWS = 500;

export function* chunks<T>(rows: readonly T[], size = INSERT_CHUNK_ROWS): Generator<T[]> {
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size);
}

/** Copies the keys whose value is neither null nor undefined (optional fields stay absent, not null). */
export function present<T extends object>(values: T): { [K in keyof T]?: NonNullable<T[K]> } {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (v !== null && v !== undefined) out[k] = v;
  return out as { [K in keyof T]?: NonNullable<T[K]> };
}

/**
 * The SET list of an upsert: each named column takes the value the INSERT proposed
 * (`excluded.<col>`, the same spelling in SQLite and PostgreSQL).
 */
export function fromExcluded<R>(cols: readonly (keyof R & string)[]): { [K in keyof R]?: RawBuilder<R[K]> } {
  const set: Record<string, RawBuilder<unknown>> = {};
  for (const c of cols) set[c] = sql`excluded.${sql.ref(c)}`;
  return set as { [K in keyof R]?: RawBuilder<R[K]> };
}
