import { InfluxDB, HttpError, canRetryHttpCall, getRetryDelay, setLogger, type Transport, type SendOptions, type CommunicationObserver } from '@influxdata/influxdb-client';
import type { Logger } from '../logger.ts';
import type { AlertEvent, ComponentHealth, Reading } from '../types.ts';
import { accessEventLine, alertEventLine, alertStateLine, createAccessEventSlots, exposureLine, latestPerAlert, readingsBody, shiftRecordLine } from './line-protocol.ts';
import { HOURLY_COUNT_MAX_SENSORS, type AccessEvent, type AggregatePoint, type AggregateQuery, type ExposurePoint, type HourlyCount, type HourlyCountQuery, type ReadingQuery, type ShiftRecord, type ShiftRecordQuery, type Store, type StoredReading } from './store.ts';
import { HwError } from '../errors.ts';
import { identifier, stringLiteral as q, timeLiteral as t } from './influxql.ts';
import { checkActiveLimit, checkAggregate, checkPage, clampRange, fillBuckets } from './time-range.ts';

export interface InfluxStoreConfig {
  url: string;
  database: string;
  retentionPolicy: string;
  org: string;
  bucket: string;
  token: string;
  username: string;
  password: string;
  timeoutMs: number;
}

export interface InfluxStoreOptions {
  /** Attempts per batch before the caller is told to spool. */
  maxAttempts?: number;
  /** First back-off delay, ms; doubles each attempt, plus up to 100 % jitter. */
  retryBaseMs?: number;
}

/**
 * The official client posts to `/api/v2/write`, which InfluxDB serves from 1.8 on. For
 * older 1.x servers (Debian's 1.6) this transport maps that request onto the v1
 * `/write` endpoint, so one write path serves every version (DESIGN.md "Storage").
 */
class V1WriteTransport implements Transport {
  constructor(private readonly inner: Transport, private readonly v1Query: string) {}
  get chunkCombiner() {
    return this.inner.chunkCombiner;
  }
  private map(path: string): string {
    if (!path.startsWith('/api/v2/write')) return path;
    const precision = new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('precision') ?? 'ms';
    return `/write?${this.v1Query}&precision=${precision}`;
  }
  send(path: string, body: string, options: SendOptions, callbacks?: Partial<CommunicationObserver<Uint8Array>>): void {
    this.inner.send(this.map(path), body, options, callbacks);
  }
  request(path: string, body: unknown, options: SendOptions, responseStarted?: Parameters<Transport['request']>[3]): Promise<unknown> {
    return this.inner.request(this.map(path), body, options, responseStarted);
  }
  iterate(path: string, body: unknown, options: SendOptions): AsyncIterableIterator<Uint8Array> {
    return this.inner.iterate(this.map(path), body, options);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface InfluxQLSeries {
  name: string;
  columns: string[];
  values?: unknown[][];
  tags?: Record<string, string>;
}
interface InfluxQLResponse {
  results?: { statement_id: number; series?: InfluxQLSeries[]; error?: string }[];
  error?: string;
}

/** A time range of a query, as InfluxQL: both ends checked to be representable. */
const between = (from: number, to: number) => {
  const r = clampRange(from, to);
  return `time >= ${t(r.from, 'from')} AND time <= ${t(r.to, 'to')}`;
};
const limitClause = (limit: number | undefined) => (limit === undefined ? '' : ` LIMIT ${checkPage(limit).limit}`);

export function createInfluxStore(config: InfluxStoreConfig, logger: Logger, opts: InfluxStoreOptions = {}): Store {
  const log = logger.child({ module: 'influx-store' });
  const maxAttempts = opts.maxAttempts ?? 3;
  const retryBaseMs = opts.retryBaseMs ?? 200;
  const base = config.url.replace(/\/+$/, '');
  let client: InfluxDB | undefined;
  let version = 'unknown';
  let org = config.org;
  let bucket = config.bucket;
  let writePath = '';

  // Route the client's own logging through pino rather than the console.
  setLogger({
    error: (message, err) => log.debug({ err }, message),
    warn: (message, err) => log.debug({ err }, message),
  });

  const authHeaders = (): Record<string, string> => (config.token ? { Authorization: `Token ${config.token}` } : {});
  const v1Auth = () => (config.username ? `&u=${encodeURIComponent(config.username)}&p=${encodeURIComponent(config.password)}` : '');

  async function influxql(query: string, method: 'GET' | 'POST' = 'GET'): Promise<InfluxQLResponse> {
    const url = `${base}/query?db=${encodeURIComponent(config.database)}&epoch=ms&q=${encodeURIComponent(query)}${v1Auth()}`;
    // InfluxDB unreachable, too slow, or answering 5xx (or not JSON, e.g. a proxy's error
    // page): the store is unavailable (503), which is not the caller's fault nor a bug.
    let res: Response;
    let body: InfluxQLResponse;
    try {
      res = await fetch(url, { method, headers: authHeaders(), signal: AbortSignal.timeout(config.timeoutMs) });
      body = (await res.json()) as InfluxQLResponse;
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'influxdb query failed');
      throw new HwError('HW_ERR_STORE_UNAVAILABLE', `influxdb at ${base}: ${(err as Error).message}`);
    }
    if (res.status >= 500) throw new HwError('HW_ERR_STORE_UNAVAILABLE', `influxdb at ${base} answered ${res.status}`);
    const err = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || err) throw new Error(`InfluxQL ${res.status}: ${err ?? res.statusText} (${query.slice(0, 120)})`);
    return body;
  }

  function rows(res: InfluxQLResponse): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const s of res.results?.[0]?.series ?? []) {
      for (const v of s.values ?? []) out.push(Object.fromEntries(s.columns.map((c, i) => [c, v[i]])));
    }
    return out;
  }

  /**
   * One line-protocol body through the official client's transport: the same request its
   * WriteApi sends (`/api/v2/write?org&bucket&precision=ms`, which V1WriteTransport maps
   * for 1.x), given as bytes. WriteApi takes its body as strings, one per line, joins
   * them and encodes the result; the readings body is already encoded (readingsBody), and
   * the node transport passes a Buffer through as it is (its `Buffer.from(body)` copies).
   */
  function send(body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      let status: number | undefined;
      let headers: Record<string, string | string[]> | undefined;
      client!.transport.send(writePath, body as unknown as string, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } }, {
        responseStarted(h, s) {
          headers = h as Record<string, string | string[]>;
          status = s;
        },
        error: reject,
        complete() {
          // As WriteApi: a write answers 204 (or 201); anything else is an error.
          if (status === undefined || status === 204 || status === 201) resolve();
          else reject(new HttpError(status, `204 HTTP response status code expected, but ${status} returned`, undefined, undefined, undefined, undefined, headers));
        },
      });
    });
  }

  /** One batch = one HTTP write; retried with jittered back-off. */
  async function write(body: Buffer): Promise<void> {
    if (!client) throw new Error('influx store not started');
    if (body.length === 0) return;
    for (let attempt = 1; ; attempt++) {
      try {
        await send(body);
        return;
      } catch (err) {
        const retriable = canRetryHttpCall(err) || (err instanceof HttpError && err.statusCode >= 500);
        if (!retriable || attempt >= maxAttempts) throw err;
        const delayMs = getRetryDelay(err as Error, 0) || retryBaseMs * 2 ** (attempt - 1) * (1 + Math.random());
        log.debug({ attempt, delayMs, err: (err as Error).message }, 'influx write failed, retrying');
        await sleep(delayMs);
      }
    }
  }
  const writeLines = (lines: string[]) => write(Buffer.from(lines.join('\n'), 'utf8'));
  const accessSlot = createAccessEventSlots();

  return {
    kind: 'influx',
    async start() {
      const ping = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(config.timeoutMs) });
      version = ping.headers.get('x-influxdb-version') ?? 'unknown';
      const isV1 = version.startsWith('1.');
      const rp = config.retentionPolicy;
      if (isV1) {
        // 1.x: the database is ours to create (idempotent). 2.x/3.x: the bucket and its
        // DBRP mapping are provisioned by the operator (README "InfluxDB versions").
        await influxql(`CREATE DATABASE ${identifier(config.database, 'HW_INFLUX_DATABASE')}`, 'POST');
      }
      org = config.org || 'hazardwatch';
      bucket = config.bucket || (rp ? `${config.database}/${rp}` : config.database);
      writePath = `/api/v2/write?org=${encodeURIComponent(org)}&bucket=${encodeURIComponent(bucket)}&precision=ms`;
      const plain = new InfluxDB({ url: base, token: config.token || undefined, timeout: config.timeoutMs });
      client = isV1
        ? new InfluxDB({ url: base, timeout: config.timeoutMs, transport: new V1WriteTransport(plain.transport, `db=${encodeURIComponent(config.database)}${rp ? `&rp=${encodeURIComponent(rp)}` : ''}${v1Auth()}`) })
        : plain;
      log.info({ url: base, version, database: config.database, bucket }, 'influx store ready');
    },
    writeReadings: (readings) => write(readingsBody(readings)),
    // The events and each alert's state point in one write: both land or neither.
    writeAlertEvents: (events) => writeLines([...events.map(alertEventLine), ...latestPerAlert(events).map(alertStateLine)]),
    writeExposure: (points) => writeLines(points.map(exposureLine)),
    writeAccessEvents: (events) => writeLines(events.map((e) => accessEventLine(e, accessSlot(e.ts)))),
    async queryAccessEvents({ since, until, limit }): Promise<AccessEvent[]> {
      const res = await influxql(`SELECT json FROM access_event WHERE ${between(since, until)} ORDER BY time DESC${limitClause(limit)}`);
      return rows(res).map((r) => JSON.parse(r.json as string) as AccessEvent);
    },
    async queryExposure({ sensorId, from, to, limit }: ReadingQuery): Promise<ExposurePoint[]> {
      const res = await influxql(`SELECT twa8h, stel15, coverage8h, lex8h, shift_twa, enterprise, agent FROM exposure WHERE sensor = ${q(sensorId, 'sensor')} AND ${between(from, to)} ORDER BY time ASC${limitClause(limit)}`);
      return rows(res).map((r) => {
        const p: ExposurePoint = { sensorId, enterpriseId: r.enterprise as string, agent: r.agent as string, ts: r.time as number, twa8h: r.twa8h as number, stel15: r.stel15 as number, coverage8h: r.coverage8h as number };
        if (r.lex8h !== null && r.lex8h !== undefined) p.lex8h = r.lex8h as number;
        if (r.shift_twa !== null && r.shift_twa !== undefined) p.shiftTwa = r.shift_twa as number;
        return p;
      });
    },
    writeShiftRecords: (records) => writeLines(records.map(shiftRecordLine)),
    async queryShiftRecords({ sensorId, from, to }: ShiftRecordQuery): Promise<ShiftRecord[]> {
      const res = await influxql(`SELECT shift, end_ms, c_twa, coverage, exceeded, lex8h, dose_pct, "limit", enterprise, agent FROM shift_exposure WHERE sensor = ${q(sensorId, 'sensor')} AND ${between(from, to)} ORDER BY time ASC`);
      return rows(res).map((r) => {
        const x: ShiftRecord = { sensorId, enterpriseId: r.enterprise as string, agent: r.agent as string, shift: r.shift as string, startMs: r.time as number, endMs: r.end_ms as number, cTwa: r.c_twa as number, coverage: r.coverage as number, exceeded: r.exceeded as boolean };
        if (r.lex8h !== null && r.lex8h !== undefined) x.lex8h = r.lex8h as number;
        if (r.dose_pct !== null && r.dose_pct !== undefined) x.dosePct = r.dose_pct as number;
        if (r.limit !== null && r.limit !== undefined) x.limit = r.limit as number;
        return x;
      });
    },
    async queryReadings({ sensorId, from, to, limit }: ReadingQuery): Promise<StoredReading[]> {
      const res = await influxql(`SELECT value, value_std, unit FROM reading WHERE sensor = ${q(sensorId, 'sensor')} AND ${between(from, to)} ORDER BY time ASC${limitClause(limit)}`);
      return rows(res).map((r) => ({ sensorId, ts: r.time as number, value: r.value as number, unit: r.unit as string, valueStd: r.value_std as number }));
    },
    async aggregateReadings({ sensorId, from, to, intervalMs, fn }: AggregateQuery): Promise<AggregatePoint[]> {
      const step = checkAggregate({ from, to, intervalMs }).intervalMs;
      // fill(none): InfluxDB returns only buckets with data; fillBuckets fills the rest the same way for both stores.
      const res = await influxql(`SELECT ${fn === 'max' ? 'max' : 'mean'}(value_std) AS v FROM reading WHERE sensor = ${q(sensorId, 'sensor')} AND ${between(from, to)} GROUP BY time(${step}ms) fill(none)`);
      return fillBuckets(from, to, step, new Map(rows(res).map((r) => [r.time as number, r.v as number])));
    },
    async countReadings({ sensorId, from, to }: ReadingQuery): Promise<number> {
      const res = await influxql(`SELECT count(value) AS n FROM reading WHERE sensor = ${q(sensorId, 'sensor')} AND ${between(from, to)}`);
      return (rows(res)[0]?.n as number | undefined) ?? 0;
    },
    async countReadingsPerHour({ sensorIds, from, to }: HourlyCountQuery): Promise<HourlyCount[]> {
      if (sensorIds.length > HOURLY_COUNT_MAX_SENSORS) throw new Error(`countReadingsPerHour: at most ${HOURLY_COUNT_MAX_SENSORS} sensors a call`);
      if (sensorIds.length === 0 || to <= from) return [];
      const res = await influxql(`SELECT count(value) AS n FROM reading WHERE (${sensorIds.map((id) => `sensor = ${q(id, 'sensorIds')}`).join(' OR ')}) AND time >= ${t(from, 'from')} AND time < ${t(to, 'to')} GROUP BY time(1h), sensor fill(none)`);
      const out: HourlyCount[] = [];
      for (const s of res.results?.[0]?.series ?? []) {
        const sensorId = s.tags?.sensor;
        if (sensorId === undefined) continue;
        const ti = s.columns.indexOf('time');
        const ni = s.columns.indexOf('n');
        for (const v of s.values ?? []) if ((v[ni] as number) > 0) out.push({ sensorId, hour: v[ti] as number, n: v[ni] as number });
      }
      return out;
    },
    async queryAlertEvents({ since, alertId } = {}): Promise<AlertEvent[]> {
      const where = [since !== undefined ? `time >= ${t(clampRange(since, Math.max(since, 0)).from, 'since')}` : '', alertId ? `alert = ${q(alertId, 'alertId')}` : ''].filter(Boolean);
      const res = await influxql(`SELECT json FROM alert_event${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY time ASC`);
      return rows(res).map((r) => JSON.parse(r.json as string) as AlertEvent);
    },
    async queryActiveAlerts({ limit }): Promise<AlertEvent[]> {
      // One point per alert ever raised (not per event), filtered on a field, at most `limit` back.
      const res = await influxql(`SELECT json FROM alert_state WHERE active = true ORDER BY time ASC LIMIT ${checkActiveLimit(limit)}`);
      return rows(res).map((r) => JSON.parse(r.json as string) as AlertEvent);
    },
    async health(): Promise<ComponentHealth> {
      try {
        const res = await fetch(`${base}/ping`, { signal: AbortSignal.timeout(2000) });
        return { ok: res.status === 204 || res.ok, detail: `influxdb ${version} at ${base}` };
      } catch (err) {
        return { ok: false, detail: `influxdb at ${base}: ${(err as Error).message}` };
      }
    },
    async stop() {
      client = undefined;
    },
  };
}
