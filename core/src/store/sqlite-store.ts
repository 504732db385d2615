import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.ts';
import type { AlertEvent, ComponentHealth, Reading } from '../types.ts';
import { HOURLY_COUNT_MAX_SENSORS, type AccessEvent, type AggregatePoint, type AggregateQuery, type ExposurePoint, type HourlyCount, type HourlyCountQuery, type ReadingQuery, type ShiftRecord, type ShiftRecordQuery, type Store, type StoredReading } from './store.ts';
import { checkActiveLimit, checkAggregate, checkPage, clampRange, fillBuckets } from './time-range.ts';
import { checkId } from './influxql.ts';

/** Bounds of the login audit (access_event) in the embedded store, applied on each write. */
export interface AccessEventCap {
  /** Events older than this (by their time) are deleted, ms. Default 400 days: more than the 366 days the audit can be asked for. */
  maxAgeMs: number;
  /** Beyond this many rows the oldest written are deleted. Default 500,000 (about 100 MB). */
  maxRows: number;
}
export const DEFAULT_ACCESS_EVENT_CAP: AccessEventCap = { maxAgeMs: 400 * 24 * 3600_000, maxRows: 500_000 };

/**
 * The embedded store: SQLite in WAL mode under HW_DATA_DIR. Same interface and contract
 * as the InfluxDB store; identities are primary keys, so a replay stores a point once.
 */
const HOUR_MS = 3600_000;
/** The event loop gets a turn between sensors of a long count (better-sqlite3 is synchronous). */
const yieldToLoop = () => new Promise<void>((r) => setImmediate(r));
/** An aggregate scans readings this much time at a time (6 h: 10,800 readings at 2 s, a few ms). */
const AGGREGATE_SLICE_MS = 6 * HOUR_MS;

export function createSqliteStore(dataDir: string, logger: Logger, opts: { accessEventCap?: Partial<AccessEventCap>; now?: () => number } = {}): Store {
  const accessCap = { ...DEFAULT_ACCESS_EVENT_CAP, ...opts.accessEventCap };
  const clock = opts.now ?? Date.now;
  const log = logger.child({ module: 'sqlite-store' });
  let db: Database.Database | undefined;
  let insertReading: Database.Statement | undefined;
  let insertEvent: Database.Statement | undefined;
  let writeMany: ((rs: readonly Reading[]) => void) | undefined;
  let writeEvents: ((es: readonly AlertEvent[]) => void) | undefined;
  let writeExposures: ((ps: readonly ExposurePoint[]) => void) | undefined;
  let writeShifts: ((rs: readonly ShiftRecord[]) => void) | undefined;

  const open = () => {
    if (!db) throw new Error('sqlite store not started');
    return db;
  };

  return {
    kind: 'sqlite',
    async start() {
      mkdirSync(dataDir, { recursive: true });
      const path = join(dataDir, 'hazardwatch.sqlite');
      db = new Database(path);
      db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode: a committed transaction survives a process crash (kill -9);
      // only an OS crash or power loss may lose the last transactions.
      db.pragma('synchronous = NORMAL');
      db.exec(`
        CREATE TABLE IF NOT EXISTS reading (
          sensor TEXT NOT NULL, ts INTEGER NOT NULL, enterprise TEXT NOT NULL, gateway TEXT NOT NULL,
          agent TEXT NOT NULL, value REAL NOT NULL, value_std REAL NOT NULL, unit TEXT NOT NULL,
          PRIMARY KEY (sensor, ts)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS alert_event (
          alert TEXT NOT NULL, kind TEXT NOT NULL, ts INTEGER NOT NULL, json TEXT NOT NULL,
          PRIMARY KEY (alert, kind, ts));
        CREATE INDEX IF NOT EXISTS alert_event_ts ON alert_event (ts);
        CREATE TABLE IF NOT EXISTS exposure (
          sensor TEXT NOT NULL, ts INTEGER NOT NULL, enterprise TEXT NOT NULL, agent TEXT NOT NULL,
          twa8h REAL NOT NULL, stel15 REAL NOT NULL, coverage8h REAL NOT NULL, lex8h REAL, shift_twa REAL,
          PRIMARY KEY (sensor, ts)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS access_event (ts INTEGER NOT NULL, kind TEXT NOT NULL, json TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS access_event_ts ON access_event (ts);
        CREATE TABLE IF NOT EXISTS shift_exposure (
          sensor TEXT NOT NULL, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, enterprise TEXT NOT NULL, agent TEXT NOT NULL,
          shift TEXT NOT NULL, c_twa REAL NOT NULL, coverage REAL NOT NULL, exceeded INTEGER NOT NULL, lex8h REAL, dose_pct REAL, limit_value REAL,
          PRIMARY KEY (sensor, start_ms)) WITHOUT ROWID;
      `);
      // Rollups kept in the same transaction as the rows they summarise (each created and
      // filled once from the existing rows when a data dir from before them is opened):
      // - reading_hour: readings per sensor and epoch hour, so the KPI's data completeness
      //   reads at most 8,784 rows per sensor a year instead of every reading;
      // - alert_state: each alert's latest event (last write wins by event time), with
      //   `active` = its state is not cleared, so alerts still open are found at any age.
      const hadTable = (name: string) => db!.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
      const hadHours = hadTable('reading_hour');
      const hadStates = hadTable('alert_state');
      db.exec(`
        CREATE TABLE IF NOT EXISTS reading_hour (
          sensor TEXT NOT NULL, hour INTEGER NOT NULL, n INTEGER NOT NULL,
          PRIMARY KEY (sensor, hour)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS alert_state (
          alert TEXT PRIMARY KEY, ts INTEGER NOT NULL, active INTEGER NOT NULL, json TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS alert_state_active ON alert_state (ts) WHERE active = 1;
      `);
      if (!hadHours) db.exec(`INSERT INTO reading_hour SELECT sensor, ts - (ts % ${HOUR_MS}) AS hour, COUNT(*) FROM reading GROUP BY sensor, hour`);
      // Last write wins for the same identity, as in InfluxDB. A reading is inserted if new
      // (and counted in reading_hour) or else updated in place (counted already).
      insertReading = db.prepare('INSERT INTO reading VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sensor, ts) DO NOTHING');
      const updateReading = db.prepare('UPDATE reading SET enterprise = ?, gateway = ?, agent = ?, value = ?, value_std = ?, unit = ? WHERE sensor = ? AND ts = ?');
      const addHour = db.prepare('INSERT INTO reading_hour VALUES (?, ?, ?) ON CONFLICT (sensor, hour) DO UPDATE SET n = n + excluded.n');
      insertEvent = db.prepare('INSERT OR REPLACE INTO alert_event VALUES (?, ?, ?, ?)');
      const setState = db.prepare('INSERT INTO alert_state VALUES (?, ?, ?, ?) ON CONFLICT (alert) DO UPDATE SET ts = excluded.ts, active = excluded.active, json = excluded.json WHERE excluded.ts >= alert_state.ts');
      writeMany = db.transaction((rs: readonly Reading[]) => {
        const added = new Map<string, Map<number, number>>();
        for (const r of rs) {
          if (insertReading!.run(r.sensorId, r.ts, r.enterpriseId, r.gatewayId, r.agent, r.value, r.valueStd, r.unit).changes === 0) {
            updateReading.run(r.enterpriseId, r.gatewayId, r.agent, r.value, r.valueStd, r.unit, r.sensorId, r.ts);
            continue;
          }
          // The same hour as SQL's ts - (ts % 3600000) (both truncate toward zero).
          const hour = r.ts - (r.ts % HOUR_MS);
          let hours = added.get(r.sensorId);
          if (!hours) added.set(r.sensorId, (hours = new Map()));
          hours.set(hour, (hours.get(hour) ?? 0) + 1);
        }
        for (const [sensor, hours] of added) for (const [hour, n] of hours) addHour.run(sensor, hour, n);
      });
      writeEvents = db.transaction((es: readonly AlertEvent[]) => {
        for (const e of es) {
          const json = JSON.stringify(e);
          insertEvent!.run(e.alertId, e.kind, e.ts, json);
          setState.run(e.alertId, e.ts, e.alert.state === 'cleared' ? 0 : 1, json);
        }
      });
      if (!hadStates) {
        // Each alert's latest event in stored order (time, then insertion), as queryAlertEvents returns them.
        db.exec(`INSERT INTO alert_state
          SELECT alert, ts, json_extract(json, '$.alert.state') != 'cleared', json FROM alert_event a
          WHERE rowid = (SELECT rowid FROM alert_event b WHERE b.alert = a.alert ORDER BY ts DESC, rowid DESC LIMIT 1)`);
      }
      const insertExposure = db.prepare('INSERT OR REPLACE INTO exposure VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
      writeExposures = db.transaction((ps: readonly ExposurePoint[]) => {
        for (const p of ps) insertExposure.run(p.sensorId, p.ts, p.enterpriseId, p.agent, p.twa8h, p.stel15, p.coverage8h, p.lex8h ?? null, p.shiftTwa ?? null);
      });
      const insertShift = db.prepare('INSERT OR REPLACE INTO shift_exposure VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      writeShifts = db.transaction((rs: readonly ShiftRecord[]) => {
        for (const r of rs) insertShift.run(r.sensorId, r.startMs, r.endMs, r.enterpriseId, r.agent, r.shift, r.cTwa, r.coverage, r.exceeded ? 1 : 0, r.lex8h ?? null, r.dosePct ?? null, r.limit ?? null);
      });
      log.info({ path }, 'embedded store ready');
    },
    async writeReadings(readings) {
      open();
      writeMany!(readings);
    },
    async writeAlertEvents(events) {
      open();
      writeEvents!(events);
    },
    async writeExposure(points) {
      open();
      writeExposures!(points);
    },
    async writeAccessEvents(events) {
      const insert = open().prepare('INSERT INTO access_event VALUES (?, ?, ?)');
      // The audit cannot grow without bound (it shares the data directory with the spool):
      // each write deletes what is past the age or row cap. A new row's rowid is the largest
      // plus one, so the row cap is a range on rowid (it keeps at most maxRows rows).
      const byAge = open().prepare('DELETE FROM access_event WHERE ts < ?');
      const byRows = open().prepare('DELETE FROM access_event WHERE rowid <= (SELECT max(rowid) FROM access_event) - ?');
      open().transaction(() => {
        for (const e of events) insert.run(e.ts, e.kind, JSON.stringify(e));
        byAge.run(clock() - accessCap.maxAgeMs);
        byRows.run(accessCap.maxRows);
      })();
    },
    async queryAccessEvents({ since, until, limit }): Promise<AccessEvent[]> {
      ({ from: since, to: until } = clampRange(since, until));
      checkPage(limit);
      const rows = open().prepare('SELECT json FROM access_event WHERE ts >= ? AND ts <= ? ORDER BY ts DESC, rowid DESC LIMIT ?').all(since, until, limit) as { json: string }[];
      return rows.map((r) => JSON.parse(r.json) as AccessEvent);
    },
    async queryExposure({ sensorId, from, to, limit }: ReadingQuery): Promise<ExposurePoint[]> {
      checkId(sensorId, 'sensor');
      ({ from, to } = clampRange(from, to));
      if (limit !== undefined) checkPage(limit);
      const rows = open()
        .prepare(`SELECT sensor, ts, enterprise, agent, twa8h, stel15, coverage8h, lex8h, shift_twa FROM exposure WHERE sensor = ? AND ts >= ? AND ts <= ? ORDER BY ts${limit ? ' LIMIT ?' : ''}`)
        .all(...[sensorId, from, to, ...(limit ? [Math.floor(limit)] : [])]) as { sensor: string; ts: number; enterprise: string; agent: string; twa8h: number; stel15: number; coverage8h: number; lex8h: number | null; shift_twa: number | null }[];
      return rows.map((r) => {
        const p: ExposurePoint = { sensorId: r.sensor, enterpriseId: r.enterprise, agent: r.agent, ts: r.ts, twa8h: r.twa8h, stel15: r.stel15, coverage8h: r.coverage8h };
        if (r.lex8h !== null) p.lex8h = r.lex8h;
        if (r.shift_twa !== null) p.shiftTwa = r.shift_twa;
        return p;
      });
    },
    async writeShiftRecords(records) {
      open();
      writeShifts!(records);
    },
    async queryShiftRecords({ sensorId, from, to }: ShiftRecordQuery): Promise<ShiftRecord[]> {
      checkId(sensorId, 'sensor');
      ({ from, to } = clampRange(from, to));
      const rows = open()
        .prepare('SELECT * FROM shift_exposure WHERE sensor = ? AND start_ms >= ? AND start_ms <= ? ORDER BY start_ms')
        .all(sensorId, from, to) as { sensor: string; start_ms: number; end_ms: number; enterprise: string; agent: string; shift: string; c_twa: number; coverage: number; exceeded: number; lex8h: number | null; dose_pct: number | null; limit_value: number | null }[];
      return rows.map((r) => {
        const x: ShiftRecord = { sensorId: r.sensor, enterpriseId: r.enterprise, agent: r.agent, shift: r.shift, startMs: r.start_ms, endMs: r.end_ms, cTwa: r.c_twa, coverage: r.coverage, exceeded: r.exceeded === 1 };
        if (r.lex8h !== null) x.lex8h = r.lex8h;
        if (r.dose_pct !== null) x.dosePct = r.dose_pct;
        if (r.limit_value !== null) x.limit = r.limit_value;
        return x;
      });
    },
    async queryReadings({ sensorId, from, to, limit }: ReadingQuery): Promise<StoredReading[]> {
      checkId(sensorId, 'sensor');
      ({ from, to } = clampRange(from, to));
      if (limit !== undefined) checkPage(limit);
      const rows = open()
        .prepare(`SELECT ts, value, unit, value_std AS valueStd FROM reading WHERE sensor = ? AND ts >= ? AND ts <= ? ORDER BY ts${limit ? ' LIMIT ?' : ''}`)
        .all(...[sensorId, from, to, ...(limit ? [Math.floor(limit)] : [])]) as Omit<StoredReading, 'sensorId'>[];
      return rows.map((r) => ({ sensorId, ...r }));
    },
    async aggregateReadings({ sensorId, from, to, intervalMs, fn }: AggregateQuery): Promise<AggregatePoint[]> {
      checkId(sensorId, 'sensor');
      const step = checkAggregate({ from, to, intervalMs }).intervalMs;
      // At most MAX_READING_SPAN_MS (checkAggregate), scanned a slice of AGGREGATE_SLICE_MS at
      // a time with a turn of the event loop between slices (better-sqlite3 is synchronous):
      // per bucket the sum, count and max of each slice, merged.
      const stmt = open().prepare('SELECT ts - (ts % ?) AS bucket, SUM(value_std) AS s, COUNT(*) AS n, MAX(value_std) AS m FROM reading WHERE sensor = ? AND ts >= ? AND ts <= ? GROUP BY bucket');
      const acc = new Map<number, { s: number; n: number; m: number }>();
      for (let a = from; a <= to; a += AGGREGATE_SLICE_MS) {
        if (a > from) await yieldToLoop();
        for (const r of stmt.all(step, sensorId, a, Math.min(to, a + AGGREGATE_SLICE_MS - 1)) as { bucket: number; s: number; n: number; m: number }[]) {
          const cur = acc.get(r.bucket);
          if (!cur) acc.set(r.bucket, { s: r.s, n: r.n, m: r.m });
          else {
            cur.s += r.s;
            cur.n += r.n;
            cur.m = Math.max(cur.m, r.m);
          }
        }
      }
      // Empty intervals are null, as InfluxQL GROUP BY time() fills them (one function for both stores).
      return fillBuckets(from, to, step, new Map([...acc].map(([b, v]) => [b, fn === 'max' ? v.m : v.s / v.n])));
    },
    async countReadings({ sensorId, from, to }: ReadingQuery): Promise<number> {
      checkId(sensorId, 'sensor');
      ({ from, to } = clampRange(from, to));
      const row = open().prepare('SELECT COUNT(*) AS n FROM reading WHERE sensor = ? AND ts >= ? AND ts <= ?').get(sensorId, from, to) as { n: number };
      return row.n;
    },
    async countReadingsPerHour({ sensorIds, from, to }: HourlyCountQuery): Promise<HourlyCount[]> {
      if (sensorIds.length > HOURLY_COUNT_MAX_SENSORS) throw new Error(`countReadingsPerHour: at most ${HOURLY_COUNT_MAX_SENSORS} sensors a call`);
      ({ from, to } = clampRange(from, to));
      // Whole hours from the reading_hour rollup (one row per sensor and hour); a partial
      // hour at either end from the readings themselves (at most one hour of them each).
      const firstWhole = Math.ceil(from / HOUR_MS) * HOUR_MS;
      const endWhole = Math.floor(to / HOUR_MS) * HOUR_MS;
      const raw: [number, number][] = firstWhole >= endWhole ? [[from, to]] : [[from, firstWhole], [endWhole, to]];
      const whole = open().prepare('SELECT hour, n FROM reading_hour WHERE sensor = ? AND hour >= ? AND hour < ? ORDER BY hour');
      const part = open().prepare(`SELECT ts - (ts % ${HOUR_MS}) AS hour, COUNT(*) AS n FROM reading WHERE sensor = ? AND ts >= ? AND ts < ? GROUP BY hour ORDER BY hour`);
      const out: HourlyCount[] = [];
      for (const sensorId of sensorIds) {
        checkId(sensorId, 'sensorIds');
        const rows = [
          ...(raw[0]![0] < raw[0]![1] ? (part.all(sensorId, raw[0]![0], raw[0]![1]) as { hour: number; n: number }[]) : []),
          ...(firstWhole < endWhole ? (whole.all(sensorId, firstWhole, endWhole) as { hour: number; n: number }[]) : []),
          ...(raw[1] && raw[1][0] < raw[1][1] ? (part.all(sensorId, raw[1][0], raw[1][1]) as { hour: number; n: number }[]) : []),
        ];
        for (const r of rows) if (r.n > 0) out.push({ sensorId, hour: r.hour, n: r.n });
        await yieldToLoop();
      }
      return out;
    },
    async queryAlertEvents({ since, alertId } = {}): Promise<AlertEvent[]> {
      if (since !== undefined) since = clampRange(since, Math.max(since, 0)).from;
      if (alertId !== undefined) checkId(alertId, 'alertId');
      const rows = open()
        .prepare(`SELECT json FROM alert_event WHERE ts >= ? ${alertId ? 'AND alert = ?' : ''} ORDER BY ts, rowid`)
        .all(...[since ?? 0, ...(alertId ? [alertId] : [])]) as { json: string }[];
      return rows.map((r) => JSON.parse(r.json) as AlertEvent);
    },
    async queryActiveAlerts({ limit }): Promise<AlertEvent[]> {
      checkActiveLimit(limit);
      const rows = open().prepare('SELECT json FROM alert_state WHERE active = 1 ORDER BY ts LIMIT ?').all(limit) as { json: string }[];
      return rows.map((r) => JSON.parse(r.json) as AlertEvent);
    },
    async health(): Promise<ComponentHealth> {
      try {
        open().prepare('SELECT 1').get();
        return { ok: true, detail: `sqlite at ${dataDir}` };
      } catch (err) {
        return { ok: false, detail: (err as Error).message };
      }
    },
    async stop() {
      db?.close();
      db = undefined;
    },
  };
}
