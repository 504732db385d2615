import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { RecordsEngine } from '../records-url.ts';
import { records001 } from './001-records.ts';

/**
 * Every migration, in order, as code (no directory scan: they ship inside the bundle and
 * typecheck with the rest). A new one is appended here; applied ones are never edited.
 */
export function migrations(engine: RecordsEngine): Record<string, Migration> {
  return {
    '001-records': records001(engine),
  };
}

export function createMigrator(db: Kysely<any>, engine: RecordsEngine): Migrator {
  const provider: MigrationProvider = { getMigrations: async () => migrations(engine) };
  return new Migrator({ db, provider, migrationTableName: 'records_migration', migrationLockTableName: 'records_migration_lock' });
}
