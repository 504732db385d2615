import Database from 'better-sqlite3';
import pg from 'pg';
import { PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import type { Logger } from '../../core/src/logger.ts';
import type { RecordsTarget } from './records-url.ts';

/** PostgreSQL type OIDs whose text form we read as JS numbers. */
const INT8_OID = 20;

/**
 * int8 (BIGINT: our epoch-ms columns, count(*)) arrives from pg as a string, because it can
 * exceed 2^53; ours never do, so both engines hand back numbers. Set on this pool only,
 * not pg's global type table (other pg users in the process keep their parsing).
 */
const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export interface DialectOptions {
  /** PostgreSQL pool size (default 10). */
  poolMax?: number;
  /** Where a dropped idle connection is reported (default: nowhere). */
  logger?: Pick<Logger, 'warn'>;
}

export function createDialect(target: RecordsTarget, options: DialectOptions = {}): Dialect {
  if (target.engine === 'sqlite') {
    return new SqliteDialect({
      // Opened on first use, so creating the records object touches no file.
      database: async () => {
        const db = new Database(target.path);
        // SQLite leaves foreign keys off unless asked, per connection.
        db.pragma('foreign_keys = ON');
        // WAL: readers (the API) do not block the writer; 5 s for another process's lock.
        if (target.path !== ':memory:') db.pragma('journal_mode = WAL');
        db.pragma('busy_timeout = 5000');
        return db;
      },
    });
  }
  const pool = new pg.Pool({ connectionString: target.connectionString, max: options.poolMax ?? 10, types: pgTypes });
  // An idle connection the server closed (restart, failover, shutdown) is an 'error' on the
  // pool; unheard, Node ends the process. The pool drops it and the next query reconnects.
  pool.on('error', (err) => options.logger?.warn({ err: err.message }, 'records: an idle PostgreSQL connection was closed'));
  return new PostgresDialect({ pool });
}
