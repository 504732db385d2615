import { Kysely } from 'kysely';
import { HwError } from '../../core/src/errors.ts';
import { createDialect, type DialectOptions } from './dialect.ts';
import { createMigrator } from './migrations/index.ts';
import { parseRecordsUrl, type RecordsEngine } from './records-url.ts';
import { alertsRepo } from './repos/alerts.ts';
import { auditRepo } from './repos/audit.ts';
import { enterprisesRepo } from './repos/enterprises.ts';
import { gatewaysRepo } from './repos/gateways.ts';
import { jurisdictionsRepo } from './repos/jurisdictions.ts';
import { sensorsRepo } from './repos/sensors.ts';
import { settingsRepo } from './repos/settings.ts';
import { usersRepo } from './repos/users.ts';
import type { Db } from './repos/write.ts';
import type { RecordsDb } from './schema.ts';

function reposOf(db: Db, engine: RecordsEngine) {
  return {
    jurisdictions: jurisdictionsRepo(db),
    enterprises: enterprisesRepo(db),
    gateways: gatewaysRepo(db),
    sensors: sensorsRepo(db),
    users: usersRepo(db),
    alerts: alertsRepo(db),
    audit: auditRepo(db, engine),
    settings: settingsRepo(db),
  };
}

/** Every repository, on the pool or inside one transaction. */
export type RecordsRepos = ReturnType<typeof reposOf>;

export interface Records extends RecordsRepos {
  readonly engine: RecordsEngine;
  /** The typed query builder, for what the repositories do not cover yet. */
  readonly db: Kysely<RecordsDb>;
  /** Migrates to the latest schema (idempotent; serialised across processes by a lock table). Returns the migrations it applied. */
  start(): Promise<string[]>;
  /** Runs `fn` in one transaction: all its writes or none. */
  transaction<T>(fn: (tx: RecordsRepos) => Promise<T>): Promise<T>;
  /** Runs `fn` in one read-only transaction that sees one snapshot (reads that must agree with each other). */
  snapshot<T>(fn: (tx: RecordsRepos) => Promise<T>): Promise<T>;
  stop(): Promise<void>;
}

export interface RecordsOptions extends DialectOptions {
  /** `sqlite:<path>` or `postgres://user@host:port/db` (records-url.ts). */
  url: string;
}

/**
 * The relational records store (issue 14): registry, alerts, audit. Creating it connects
 * to nothing; start() opens the database and migrates it.
 */
export function createRecords(options: RecordsOptions): Records {
  const target = parseRecordsUrl(options.url);
  const db = new Kysely<RecordsDb>({ dialect: createDialect(target, options) });
  const engine = target.engine;
  return {
    engine,
    db,
    ...reposOf(db, engine),
    async start() {
      const { results, error } = await createMigrator(db, engine).migrateToLatest();
      if (error) {
        const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? '(before any migration)';
        throw new HwError('HW_ERR_STORE_UNAVAILABLE', `records (${engine}): migration ${failed} failed: ${(error as Error).message ?? String(error)}`);
      }
      return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    },
    transaction: (fn) => db.transaction().execute((tx) => fn(reposOf(tx, engine))),
    // PostgreSQL: REPEATABLE READ is a snapshot. SQLite: any transaction is (Kysely sends a plain BEGIN there).
    snapshot: (fn) => db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute((tx) => fn(reposOf(tx, engine))),
    stop: () => db.destroy(),
  };
}
