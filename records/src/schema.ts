import type { Generated } from 'kysely';

/**
 * The records database as Kysely sees it: one interface per table, column types as both
 * engines return them. Portable choices, so that SQLite and PostgreSQL rows read alike:
 * - times are epoch milliseconds in BIGINT columns (PostgreSQL's int8 is parsed to a
 *   number by dialect.ts; ms stay below 2^53 until the year 287,396);
 * - a calendar date (calibration) is ISO text `YYYY-MM-DD`, which sorts as it reads;
 * - "disabled" is `disabled_at` (ms, or null when enabled): no boolean column, because
 *   better-sqlite3 cannot bind booleans, and the time is worth keeping for the audit;
 * - JSON is TEXT in both engines (the audit hash is taken over the stored text).
 */
export interface JurisdictionTable {
  id: string;
  parent_id: string | null;
  name: string;
  name_en: string | null;
  /** Free text (province, city, county, district, township, park, street grid, …). */
  level: string;
  /** Plan target for the monitoring pass rate, % (Xuzhou 85, Taizhou 90). */
  kpi_target_pct: number | null;
  disabled_at: number | null;
}

export interface EnterpriseTable {
  id: string;
  name: string;
  name_en: string | null;
  /** 统一社会信用代码, GB 32100-2015: 18 characters; unique when present. */
  uscc: string | null;
  address: string | null;
  /** WGS-84 degrees. */
  lat: number | null;
  lon: number | null;
  industry: string;
  /** Limit profile as written in the registry (absent = the catalogue's default). */
  profile: string | null;
  /** The jurisdiction the enterprise belongs to (a township in today's registry). */
  jurisdiction_id: string;
  /** IANA zone of its shift calendar. */
  timezone: string;
  /** The shift calendar, JSON array of { name, start: 'HH:MM', hours }. */
  shifts_json: string;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface GatewayTable {
  /** Unique within its enterprise (the MQTT username is `<enterprise>/<gateway>`). */
  id: string;
  enterprise_id: string;
  /** `scrypt$N$r$p$salt$hash` (core/src/password.ts); the secret itself is never stored. */
  secret_hash: string;
  secret_rotated_at: number;
  disabled_at: number | null;
  created_at: number;
}

export interface SensorTable {
  /** Global across enterprises (readings are keyed by it). */
  id: string;
  enterprise_id: string;
  gateway_id: string;
  agent: string;
  /** The unit the sensor reports in. */
  unit: string;
  /** Physical measuring range, in `unit`. */
  range_min: number;
  range_max: number;
  /** Expected reporting interval, seconds (drives the dead-man). */
  interval_s: number;
  /** Where it measures (the registry's `workplace`: 综采工作面, 回风巷, …). */
  workplace: string;
  /** The job position / work post whose exposure it represents, when one is named. */
  work_post: string | null;
  /** Labour intensity Ⅰ–Ⅳ at this workplace (GBZ/T 229 WL). */
  labour: number;
  /** Calibration: last date, interval and next due date (ISO dates; days). */
  calibrated_on: string | null;
  calibration_interval_days: number | null;
  calibration_due: string | null;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface UserTable {
  username: string;
  name: string;
  /** city | district | township (regulators) or enterprise (a safety officer). */
  role: string;
  /** Exactly one of the two scopes is set (a CHECK says so). */
  scope_jurisdiction_id: string | null;
  scope_enterprise_id: string | null;
  password_hash: string;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

/** Each alert's latest state, as the latest event carried it. */
export interface AlertTable {
  id: string;
  sensor_id: string;
  enterprise_id: string;
  gateway_id: string;
  township_id: string;
  agent: string;
  rule: string;
  level: string;
  state: string;
  opened_at: number;
  updated_at: number;
  /** The Alert (core/src/types.ts) as JSON. */
  json: string;
}

export interface AlertEventTable {
  /** Generated: two events of one alert in the same millisecond are two rows. */
  id: Generated<number>;
  /**
   * Optional identity from the producer (a stream entry id, say): a redelivered event
   * with the same key is stored once. Null keys never collide.
   */
  dedup_key: string | null;
  alert_id: string;
  kind: string;
  ts: number;
  by: string | null;
  note: string | null;
  /** The alert as this event left it (Alert JSON). */
  alert_json: string;
}

/** Append-only; see repos/audit.ts for the hash chain. */
export interface AuditTable {
  /** 1, 2, 3, … with no gap: assigned under a lock by the appender. */
  seq: number;
  ts: number;
  actor: string;
  /** The client address the action came from (empty for a command run on the host). */
  address: string;
  action: string;
  target: string;
  before_json: string | null;
  after_json: string | null;
  /** sha256 hex of the previous entry (64 zeros for the first). */
  prev_hash: string;
  hash: string;
}

/** Registry-wide settings (the GBZ/T 229 grading edition). */
export interface SettingTable {
  key: string;
  value: string;
}

export interface RecordsDb {
  jurisdictions: JurisdictionTable;
  enterprises: EnterpriseTable;
  gateways: GatewayTable;
  sensors: SensorTable;
  users: UserTable;
  alerts: AlertTable;
  alert_events: AlertEventTable;
  audit_log: AuditTable;
  settings: SettingTable;
}
