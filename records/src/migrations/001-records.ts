import { sql, type Kysely, type Migration } from 'kysely';
import type { RecordsEngine } from '../records-url.ts';

/**
 * 001: the registry (jurisdictions … users), alerts with their events, the audit log.
 * Written once for both engines with Kysely's schema builder; the only fork is the
 * generated key of alert_events (SQLite AUTOINCREMENT, PostgreSQL bigserial).
 */
export function records001(engine: RecordsEngine): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createTable('jurisdictions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('parent_id', 'text', (c) => c.references('jurisdictions.id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_en', 'text')
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('kpi_target_pct', 'double precision', (c) => c.check(sql`kpi_target_pct >= 0 AND kpi_target_pct <= 100`))
        .addColumn('disabled_at', 'bigint')
        .addCheckConstraint('jurisdiction_not_own_parent', sql`parent_id IS NULL OR parent_id <> id`)
        .execute();
      await db.schema.createIndex('jurisdictions_parent').on('jurisdictions').columns(['parent_id', 'id']).execute();

      await db.schema.createTable('enterprises')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('name_en', 'text')
        .addColumn('uscc', 'text', (c) => c.unique())
        .addColumn('address', 'text')
        .addColumn('lat', 'double precision', (c) => c.check(sql`lat >= -90 AND lat <= 90`))
        .addColumn('lon', 'double precision', (c) => c.check(sql`lon >= -180 AND lon <= 180`))
        .addColumn('industry', 'text', (c) => c.notNull())
        .addColumn('profile', 'text')
        .addColumn('jurisdiction_id', 'text', (c) => c.notNull().references('jurisdictions.id'))
        .addColumn('timezone', 'text', (c) => c.notNull())
        .addColumn('shifts_json', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('enterprises_jurisdiction').on('enterprises').columns(['jurisdiction_id', 'id']).execute();

      await db.schema.createTable('gateways')
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('enterprise_id', 'text', (c) => c.notNull().references('enterprises.id'))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('secret_rotated_at', 'bigint', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('gateways_pk', ['enterprise_id', 'id'])
        .execute();

      await db.schema.createTable('sensors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('enterprise_id', 'text', (c) => c.notNull())
        .addColumn('gateway_id', 'text', (c) => c.notNull())
        .addColumn('agent', 'text', (c) => c.notNull())
        .addColumn('unit', 'text', (c) => c.notNull())
        .addColumn('range_min', 'double precision', (c) => c.notNull())
        .addColumn('range_max', 'double precision', (c) => c.notNull())
        .addColumn('interval_s', 'double precision', (c) => c.notNull().check(sql`interval_s > 0`))
        .addColumn('workplace', 'text', (c) => c.notNull())
        .addColumn('work_post', 'text')
        .addColumn('labour', 'integer', (c) => c.notNull().check(sql`labour BETWEEN 1 AND 4`))
        .addColumn('calibrated_on', 'text')
        .addColumn('calibration_interval_days', 'integer', (c) => c.check(sql`calibration_interval_days > 0`))
        .addColumn('calibration_due', 'text')
        .addColumn('disabled_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addForeignKeyConstraint('sensors_gateway', ['enterprise_id', 'gateway_id'], 'gateways', ['enterprise_id', 'id'])
        .addCheckConstraint('sensor_range', sql`range_max > range_min`)
        .execute();
      await db.schema.createIndex('sensors_gateway').on('sensors').columns(['enterprise_id', 'gateway_id', 'id']).execute();
      await db.schema.createIndex('sensors_calibration_due').on('sensors').column('calibration_due').execute();

      await db.schema.createTable('users')
        .addColumn('username', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('scope_jurisdiction_id', 'text', (c) => c.references('jurisdictions.id'))
        .addColumn('scope_enterprise_id', 'text', (c) => c.references('enterprises.id'))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('disabled_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint('user_one_scope', sql`(scope_jurisdiction_id IS NULL) <> (scope_enterprise_id IS NULL)`)
        .execute();

      // No foreign keys from alerts: they are kept for decades, whatever becomes of the
      // sensor or enterprise they name (registry rows are disabled, never deleted, anyway).
      await db.schema.createTable('alerts')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('sensor_id', 'text', (c) => c.notNull())
        .addColumn('enterprise_id', 'text', (c) => c.notNull())
        .addColumn('gateway_id', 'text', (c) => c.notNull())
        .addColumn('township_id', 'text', (c) => c.notNull())
        .addColumn('agent', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('opened_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('json', 'text', (c) => c.notNull())
        .execute();
      // Lists page by (opened_at, id) newest first, filtered by one of these.
      await db.schema.createIndex('alerts_opened').on('alerts').columns(['opened_at', 'id']).execute();
      await db.schema.createIndex('alerts_enterprise').on('alerts').columns(['enterprise_id', 'opened_at', 'id']).execute();
      await db.schema.createIndex('alerts_sensor').on('alerts').columns(['sensor_id', 'opened_at', 'id']).execute();
      await db.schema.createIndex('alerts_state').on('alerts').columns(['state', 'opened_at', 'id']).execute();
      await db.schema.createIndex('alerts_level').on('alerts').columns(['level', 'opened_at', 'id']).execute();
      await db.schema.createIndex('alerts_updated').on('alerts').columns(['updated_at', 'id']).execute();

      await db.schema.createTable('alert_events')
        .addColumn('id', engine === 'postgres' ? 'bigserial' : 'integer', (c) => (engine === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('dedup_key', 'text', (c) => c.unique())
        .addColumn('alert_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('by', 'text')
        .addColumn('note', 'text')
        .addColumn('alert_json', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alert_events_alert').on('alert_events').columns(['alert_id', 'id']).execute();
      await db.schema.createIndex('alert_events_ts').on('alert_events').columns(['ts', 'id']).execute();

      await db.schema.createTable('audit_log')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('ts', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_log_ts').on('audit_log').columns(['ts', 'seq']).execute();

      await db.schema.createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },

    async down(db: Kysely<any>) {
      for (const t of ['settings', 'audit_log', 'alert_events', 'alerts', 'users', 'sensors', 'gateways', 'enterprises', 'jurisdictions']) {
        await db.schema.dropTable(t).execute();
      }
    },
  };
}
