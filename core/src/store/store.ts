import type { AlertEvent, ComponentHealth, Reading } from '../types.ts';

/** A reading as read back from the store. */
export interface StoredReading {
  sensorId: string;
  ts: number;
  value: number;
  unit: string;
  valueStd: number;
}

export interface ReadingQuery {
  sensorId: string;
  from: number;
  to: number;
  limit?: number;
}

export interface AggregateQuery extends ReadingQuery {
  intervalMs: number;
  fn: 'mean' | 'max';
}

/** Stored readings per sensor and hour (epoch-aligned), for data completeness (the KPI). */
export interface HourlyCountQuery {
  /** At most HOURLY_COUNT_MAX_SENSORS ids per call. */
  sensorIds: readonly string[];
  /** [from, to) in ms. */
  from: number;
  to: number;
}
export const HOURLY_COUNT_MAX_SENSORS = 100;

export interface HourlyCount {
  sensorId: string;
  /** Start of the hour, epoch ms (a multiple of 3,600,000). */
  hour: number;
  n: number;
}

export interface AggregatePoint {
  ts: number;
  value: number | null;
}

/** Per-sensor exposure metrics, written each minute by the rules engine (measurement `exposure`). */
export interface ExposurePoint {
  sensorId: string;
  enterpriseId: string;
  agent: string;
  ts: number;
  twa8h: number;
  stel15: number;
  coverage8h: number;
  /** Noise only: LEX,8h in dB(A). */
  lex8h?: number;
  /** Per-shift TWA so far, when a shift is on. */
  shiftTwa?: number;
}

/**
 * A login attempt or a logout, for the audit log (measurement `access_event`). `username`
 * is what was typed (an unknown user's name too, at most 64 characters); the password is
 * never part of it.
 */
export interface AccessEvent {
  ts: number;
  kind: 'login' | 'login-failed' | 'logout';
  username: string;
  /** The client address as the API saw it. */
  address: string;
  /** Why a login failed: `HW_ERR_BAD_LOGIN` or `HW_ERR_RATE_LIMITED`. */
  reason?: string;
}

/**
 * A monitoring point's exposure over one shift, stored at the shift's end (the legal unit
 * of assessment). Identity: (sensor, startMs); writing it again replaces it.
 */
export interface ShiftRecord {
  sensorId: string;
  enterpriseId: string;
  agent: string;
  /** The shift's name in the enterprise calendar (白班, …). */
  shift: string;
  startMs: number;
  endMs: number;
  /** GBZ 2.1 C_TWA = ΣCiTi / 8 h over the shift (a shorter shift is still divided by 8 h), agent unit; noise: the dose fraction D/100. */
  cTwa: number;
  /** Noise: the profile's 8-h level of the shift (GBZ LEX,8h; OSHA/NIOSH TWA), dB(A). */
  lex8h?: number;
  /** Noise: the shift's dose %. */
  dosePct?: number;
  /** Share of the shift with readings, 0–1. */
  coverage: number;
  /** The limit compared with (PC-TWA, or the noise limit in dB(A)); absent when the agent has none. */
  limit?: number;
  exceeded: boolean;
}

export interface ShiftRecordQuery {
  sensorId: string;
  /** Shifts that started in [from, to], ms. */
  from: number;
  to: number;
}

/**
 * The time-series store. InfluxDB is the system of record; the embedded store (SQLite)
 * has the same interface so that `npm start` needs no infrastructure. One contract test
 * suite (core/test/store-contract.test.ts) runs against both.
 *
 * Identity: a reading is (sensor, ts); an alert event is (alertId, kind, ts). Writing
 * the same identity twice stores it once, so replays are idempotent.
 */
export interface Store {
  readonly kind: 'influx' | 'sqlite';
  start(): Promise<void>;
  /** Resolves once the readings are durable in the store; rejects if they are not. */
  writeReadings(readings: readonly Reading[]): Promise<void>;
  writeAlertEvents(events: readonly AlertEvent[]): Promise<void>;
  writeExposure(points: readonly ExposurePoint[]): Promise<void>;
  queryExposure(q: ReadingQuery): Promise<ExposurePoint[]>;
  /** Per-shift exposure records (written by the rules engine at each shift's end). */
  writeShiftRecords(records: readonly ShiftRecord[]): Promise<void>;
  /** A sensor's shift records by shift start, oldest first. */
  queryShiftRecords(q: ShiftRecordQuery): Promise<ShiftRecord[]>;
  queryReadings(q: ReadingQuery): Promise<StoredReading[]>;
  aggregateReadings(q: AggregateQuery): Promise<AggregatePoint[]>;
  /** Alert events in time order, optionally since a time (ms). */
  queryAlertEvents(q?: { since?: number; alertId?: string }): Promise<AlertEvent[]>;
  /**
   * The latest event of each alert whose latest state is not `cleared` (open or
   * acknowledged; a resolved alert is cleared), however old, oldest first, at most `limit`
   * (an integer from 1 to MAX_ACTIVE_ALERTS + 1, time-range.ts). Kept by the store as events are written
   * (SQLite table / InfluxDB measurement `alert_state`, one row or point per alert), so it
   * reads no alert history. Use loadActiveAlerts (active-alerts.ts), which reports truncation.
   */
  queryActiveAlerts(q: { limit: number }): Promise<AlertEvent[]>;
  /** Audit log of logins and logouts (append-only, as alert events). */
  writeAccessEvents(events: readonly AccessEvent[]): Promise<void>;
  /** Access events in [since, until], newest first, at most `limit` (1–5000). */
  queryAccessEvents(q: { since: number; until: number; limit: number }): Promise<AccessEvent[]>;
  /** Count of stored readings for a sensor in a range (used by drills and tests). */
  countReadings(q: ReadingQuery): Promise<number>;
  /** Readings stored per sensor and epoch hour in [from, to); hours with none are left out. */
  countReadingsPerHour(q: HourlyCountQuery): Promise<HourlyCount[]>;
  health(): Promise<ComponentHealth>;
  stop(): Promise<void>;
}
