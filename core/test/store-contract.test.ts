import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { silentLogger } from '../src/logger.ts';
import { createInfluxStore } from '../src/store/influx-store.ts';
import { createSqliteStore } from '../src/store/sqlite-store.ts';
import type { ShiftRecord, Store } from '../src/store/store.ts';
import type { AlertEvent, Reading } from '../src/types.ts';
import { HwError } from '../src/errors.ts';
import { MAX_BUCKETS, MAX_TS_MS } from '../src/store/time-range.ts';

const T0 = Date.UTC(2026, 10, 22, 8, 0, 0);

function reading(sensorId: string, ts: number, value: number): Reading {
  return { enterpriseId: 'e 1', gatewayId: 'gw,1', sensorId, agent: 'gas.co', ts, value, unit: 'ppm', valueStd: value * 1.165 };
}

function event(alertId: string, kind: AlertEvent['kind'], ts: number): AlertEvent {
  return {
    alertId, kind, ts, by: kind === 'acknowledged' ? 'township' : undefined,
    alert: {
      id: alertId, sensorId: 's1', rule: 'stel', enterpriseId: 'e1', gatewayId: 'gw1', agent: 'gas.co', townshipId: 't1',
      level: 'red', state: kind === 'acknowledged' ? 'acknowledged' : 'open', openedAt: T0, updatedAt: ts,
      reason: { metric: 'reading', value: 40, limit: 30, unit: 'mg/m3', source: 'GBZ 2.1-2019 "quoted"' },
    },
  };
}

const contract = (name: string, make: () => Promise<{ store: Store; cleanup: () => Promise<void> }>) =>
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeAll(async () => {
      ({ store, cleanup } = await make());
      await store.start();
    });
    afterAll(async () => {
      await store.stop();
      await cleanup();
    });

    const code = async (p: Promise<unknown>) => {
      try {
        await p;
        return 'resolved';
      } catch (err) {
        return err instanceof HwError ? err.code : `uncoded: ${(err as Error).message}`;
      }
    };

    it('stores readings and reads them back in time order, with tags that need escaping', async () => {
      const rs = [reading('s a', T0 + 2000, 3), reading('s a', T0, 1), reading('s a', T0 + 1000, 2), reading('other', T0, 9)];
      await store.writeReadings(rs);
      const back = await store.queryReadings({ sensorId: 's a', from: T0, to: T0 + 10_000 });
      expect(back.map((r) => [r.ts, r.value, r.unit])).toEqual([[T0, 1, 'ppm'], [T0 + 1000, 2, 'ppm'], [T0 + 2000, 3, 'ppm']]);
      expect(back[0]!.valueStd).toBeCloseTo(1.165, 9);
    });

    it('keeps non-ASCII names and units, tiny values, and a sensor whose unit changes between writes', async () => {
      const zh = (ts: number, value: number, unit: string): Reading => ({ ...reading('粉尘 呼尘-1', ts, value), enterpriseId: '徐州,水泥=厂', unit });
      await store.writeReadings([zh(T0, 1e-7, 'mg/m³'), zh(T0 + 1000, 2.5, 'mg/m³')]);
      await store.writeReadings([zh(T0 + 2000, 0.25, 'µg/m³"x\\')]);
      const back = await store.queryReadings({ sensorId: '粉尘 呼尘-1', from: T0, to: T0 + 10_000 });
      expect(back.map((r) => [r.ts, r.value, r.unit])).toEqual([[T0, 1e-7, 'mg/m³'], [T0 + 1000, 2.5, 'mg/m³'], [T0 + 2000, 0.25, 'µg/m³"x\\']]);
    });

    it('stores a replayed reading once (identity = sensor + timestamp)', async () => {
      const rs = [reading('dup', T0, 5), reading('dup', T0 + 1, 6)];
      await store.writeReadings(rs);
      await store.writeReadings(rs);
      expect(await store.countReadings({ sensorId: 'dup', from: T0 - 1, to: T0 + 100 })).toBe(2);
    });

    it('aggregates mean and max per interval', async () => {
      await store.writeReadings([reading('agg', T0, 1), reading('agg', T0 + 10_000, 3), reading('agg', T0 + 60_000, 10)]);
      const mean = await store.aggregateReadings({ sensorId: 'agg', from: T0, to: T0 + 119_999, intervalMs: 60_000, fn: 'mean' });
      expect(mean.map((p) => p.ts)).toEqual([T0, T0 + 60_000]);
      expect(mean[0]!.value).toBeCloseTo(2 * 1.165, 9);
      const max = await store.aggregateReadings({ sensorId: 'agg', from: T0, to: T0 + 119_999, intervalMs: 60_000, fn: 'max' });
      expect(max.map((p) => p.value)).toEqual([3 * 1.165, 10 * 1.165].map((v) => expect.closeTo(v, 9)));
    });

    it('counts readings per sensor and epoch hour in [from, to), leaving empty hours out', async () => {
      const H = 3600_000;
      const h0 = Math.floor(T0 / H) * H + 100 * H;
      await store.writeReadings([
        reading('hc a', h0, 1), reading('hc a', h0 + 1000, 1), reading('hc a', h0 + H - 1, 1), // hour 0: 3
        reading('hc a', h0 + 2 * H + 5, 1), // hour 2: 1 (hour 1 empty)
        reading('hc a', h0 + 3 * H, 1), // at `to`: excluded
        reading("hc 'b'", h0 + H, 1), reading('hc c', h0, 1),
      ]);
      const rows = await store.countReadingsPerHour({ sensorIds: ['hc a', "hc 'b'", 'hc none'], from: h0, to: h0 + 3 * H });
      const key = (r: { sensorId: string; hour: number; n: number }) => `${r.sensorId}@${(r.hour - h0) / H}=${r.n}`;
      expect(rows.map(key).sort()).toEqual(["hc 'b'@1=1", 'hc a@0=3', 'hc a@2=1']);
    });

    it('counts a reading written again (same sensor and time, new value) once per hour, and counts partial hours at either end (issue 12 review 2)', async () => {
      const H = 3600_000;
      const h0 = Math.floor(T0 / H) * H + 200 * H;
      await store.writeReadings([reading('hc r', h0, 1), reading('hc r', h0 + 10, 1), reading('hc r', h0 + H + 5, 1), reading('hc r', h0 + 2 * H + 1, 1)]);
      // Replayed and replaced: the value changes (last write wins), the count does not.
      await store.writeReadings([reading('hc r', h0, 7), reading('hc r', h0 + H + 5, 8)]);
      await store.writeReadings([reading('hc r', h0 + H + 5, 9), reading('hc r', h0 + H + 6, 1)]);
      const key = (r: { hour: number; n: number }) => `${(r.hour - h0) / H}=${r.n}`;
      expect((await store.countReadingsPerHour({ sensorIds: ['hc r'], from: h0, to: h0 + 3 * H })).map(key)).toEqual(['0=2', '1=2', '2=1']);
      expect((await store.queryReadings({ sensorId: 'hc r', from: h0, to: h0 + 2 * H })).map((r) => r.value)).toEqual([7, 1, 9, 1]);
      // Ends inside hours: only the readings in [from, to) count.
      expect((await store.countReadingsPerHour({ sensorIds: ['hc r'], from: h0 + 5, to: h0 + 2 * H + 1 })).map(key)).toEqual(['0=1', '1=2']);
      expect((await store.countReadingsPerHour({ sensorIds: ['hc r'], from: h0 + H + 5, to: h0 + H + 6 })).map(key)).toEqual(['1=1']);
      expect(await store.countReadingsPerHour({ sensorIds: ['hc r'], from: h0 + 11, to: h0 + H })).toEqual([]);
    });

    it('finds every alert still active however old, with its latest event, and none that was cleared or resolved (issue 12 review 6)', async () => {
      const D = 24 * 3600_000;
      const at = (id: string, kind: AlertEvent['kind'], ts: number, opened: number, state: 'open' | 'acknowledged' | 'cleared', level: AlertEvent['alert']['level'] = 'orange'): AlertEvent => ({
        ...event(id, kind, ts), alert: { ...event(id, kind, ts).alert, id, rule: 'twa', openedAt: opened, level, state },
      });
      const run = randomUUID();
      const old = `${run}:old`;
      const acked = `${run}:acked`;
      const cleared = `${run}:cleared`;
      const resolved = `${run}:resolved`;
      const t = T0 - 61 * D;
      await store.writeAlertEvents([at(old, 'raised', t, t, 'open')]);
      await store.writeAlertEvents([at(acked, 'raised', t + 1, t + 1, 'open', 'yellow'), at(acked, 'escalated', t + 5 * D, t + 1, 'open', 'red'), at(acked, 'acknowledged', t + 6 * D, t + 1, 'acknowledged', 'red')]);
      await store.writeAlertEvents([at(cleared, 'raised', t + 2, t + 2, 'open'), at(cleared, 'cleared', T0, t + 2, 'cleared')]);
      await store.writeAlertEvents([at(resolved, 'raised', t + 3, t + 3, 'open')]);
      await store.writeAlertEvents([at(resolved, 'resolved', T0 + 1, t + 3, 'cleared')]);
      // Replayed in order: the same answer.
      await store.writeAlertEvents([at(cleared, 'raised', t + 2, t + 2, 'open'), at(cleared, 'cleared', T0, t + 2, 'cleared')]);
      const mine = (await store.queryActiveAlerts({ limit: 10_001 })).filter((e) => e.alertId.startsWith(run));
      expect(mine.map((e) => [e.alertId, e.kind, e.ts, e.alert.state, e.alert.level]).sort()).toEqual([
        [acked, 'acknowledged', t + 6 * D, 'acknowledged', 'red'],
        [old, 'raised', t, 'open', 'orange'],
      ]);
      expect(await store.queryActiveAlerts({ limit: 1 })).toHaveLength(1);
      for (const limit of [0, 10_002, 1.5, Number.NaN]) expect(await code(store.queryActiveAlerts({ limit })), String(limit)).toBe('HW_ERR_BAD_RANGE');
    });

    it('keeps alert events append-only and returns them in order', async () => {
      const id = randomUUID();
      await store.writeAlertEvents([event(id, 'raised', T0), event(id, 'acknowledged', T0 + 5000)]);
      await store.writeAlertEvents([event(id, 'raised', T0)]);
      const back = await store.queryAlertEvents({ alertId: id });
      expect(back.map((e) => e.kind)).toEqual(['raised', 'acknowledged']);
      expect(back[1]!.by).toBe('township');
      expect(back[0]!.alert.reason.source).toBe('GBZ 2.1-2019 "quoted"');
      expect((await store.queryAlertEvents({ since: T0 + 1 })).some((e) => e.alertId === id && e.kind === 'raised')).toBe(false);
    });

    it('stores per-minute exposure metrics and reads them back, optional fields included', async () => {
      await store.writeExposure([
        { sensorId: 'n1', enterpriseId: 'e1', agent: 'noise', ts: T0, twa8h: 1e8, stel15: 2e8, coverage8h: 0.5, lex8h: 80 },
        { sensorId: 'n1', enterpriseId: 'e1', agent: 'noise', ts: T0 + 60_000, twa8h: 1.2e8, stel15: 2e8, coverage8h: 0.52, lex8h: 80.8, shiftTwa: 1.1e8 },
        { sensorId: 'g1', enterpriseId: 'e1', agent: 'gas.co', ts: T0, twa8h: 12.5, stel15: 20, coverage8h: 1 },
      ]);
      const n = await store.queryExposure({ sensorId: 'n1', from: T0, to: T0 + 60_000 });
      expect(n.map((p) => [p.ts, p.lex8h, p.shiftTwa])).toEqual([[T0, 80, undefined], [T0 + 60_000, 80.8, 1.1e8]]);
      const g = await store.queryExposure({ sensorId: 'g1', from: T0, to: T0 });
      expect(g).toEqual([{ sensorId: 'g1', enterpriseId: 'e1', agent: 'gas.co', ts: T0, twa8h: 12.5, stel15: 20, coverage8h: 1 }]);
    });

    it('refuses unbounded or unrepresentable ranges with a coded error, at once (every loop over time advances)', async () => {
      const t0 = Date.now();
      // Adding the interval to 1e21 does not change it: a bucket loop by addition never ended.
      expect(await code(store.aggregateReadings({ sensorId: 'agg', from: 1e21, to: 1e21, intervalMs: 60_000, fn: 'mean' }))).toBe('HW_ERR_BAD_RANGE');
      expect(await code(store.aggregateReadings({ sensorId: 'agg', from: 0, to: MAX_TS_MS, intervalMs: 1000, fn: 'max' }))).toBe('HW_ERR_BAD_RANGE');
      expect(await code(store.aggregateReadings({ sensorId: 'agg', from: T0, to: T0 + 60_000, intervalMs: 1, fn: 'max' }))).toBe('HW_ERR_BAD_RANGE');
      expect(await code(store.aggregateReadings({ sensorId: 'agg', from: T0, to: T0 + 60_000, intervalMs: Number.NaN, fn: 'max' }))).toBe('HW_ERR_BAD_RANGE');
      expect(await code(store.queryReadings({ sensorId: 'agg', from: T0 + 1, to: T0 }))).toBe('HW_ERR_BAD_RANGE');
      expect(await code(store.queryExposure({ sensorId: 'agg', from: Number.NaN, to: T0 }))).toBe('HW_ERR_BAD_RANGE');
      // Ends beyond the representable range are clamped to it: no point lies outside.
      expect(await store.countReadings({ sensorId: 'agg', from: -1e21, to: Infinity })).toBe(3);
      expect(await store.queryReadings({ sensorId: 'agg', from: 1e21, to: 2e21 })).toEqual([]);
      expect(await code(store.queryReadings({ sensorId: 'agg', from: 0, to: T0, limit: 0 }))).toBe('HW_ERR_BAD_RANGE');
      expect(Date.now() - t0).toBeLessThan(2000);
    });

    it('fills every bucket of a range the same way (null where empty), up to the bucket limit', async () => {
      const step = 60_000;
      // Exactly MAX_BUCKETS buckets: MAX_BUCKETS - 2 before T0, then T0's and T0 + 1 min's.
      const from = T0 - (MAX_BUCKETS - 2) * step;
      const points = await store.aggregateReadings({ sensorId: 'agg', from, to: T0 + step, intervalMs: step, fn: 'mean' });
      expect(points).toHaveLength(MAX_BUCKETS);
      expect(points[0]!.ts).toBe(from);
      expect(points.every((p, i) => p.ts === from + i * step)).toBe(true);
      expect(points.filter((p) => p.value !== null).map((p) => p.ts)).toEqual([T0, T0 + 60_000]);
      const empty = await store.aggregateReadings({ sensorId: 'nothing-here', from: T0, to: T0 + 5 * step - 1, intervalMs: step, fn: 'max' });
      expect(empty).toEqual([0, 1, 2, 3, 4].map((i) => ({ ts: T0 + i * step, value: null })));
    });

    it('queries ids with quotes, backslashes and newlines without a parse error, and refuses control characters with HW_ERR_BAD_ID', async () => {
      for (const id of ["a'b", 'a\\b', 'a\nb', "x' OR sensor =~ /.*/ --", '"q"']) {
        expect(await store.queryReadings({ sensorId: id, from: T0, to: T0 + 1000 }), JSON.stringify(id)).toEqual([]);
        expect(await store.queryAlertEvents({ alertId: id }), JSON.stringify(id)).toEqual([]);
      }
      for (const id of ['a\u0000b', 'a\u001bb', 'a\ud800b']) {
        expect(await code(store.queryReadings({ sensorId: id, from: T0, to: T0 + 1000 })), JSON.stringify(id)).toBe('HW_ERR_BAD_ID');
        expect(await code(store.queryAlertEvents({ alertId: id })), JSON.stringify(id)).toBe('HW_ERR_BAD_ID');
      }
    });

    it('keeps the login audit (access events) newest first, usernames as typed', async () => {
      await store.writeAccessEvents([
        { ts: T0, kind: 'login-failed', username: 'city', address: '10.0.0.1', reason: 'HW_ERR_BAD_LOGIN' },
        { ts: T0 + 1, kind: 'login-failed', username: 'a b,c="d"\\e\n徐州', address: '::1', reason: 'HW_ERR_BAD_LOGIN' },
        { ts: T0 + 2, kind: 'login', username: 'city', address: '10.0.0.1' },
      ]);
      const back = await store.queryAccessEvents({ since: T0, until: T0 + 10, limit: 10 });
      expect(back.map((e) => [e.ts, e.kind, e.username, e.address])).toEqual([
        [T0 + 2, 'login', 'city', '10.0.0.1'],
        [T0 + 1, 'login-failed', 'a b,c="d"\\e\n徐州', '::1'],
        [T0, 'login-failed', 'city', '10.0.0.1'],
      ]);
      expect(await store.queryAccessEvents({ since: T0, until: T0 + 10, limit: 1 })).toHaveLength(1);
    });

    it('keeps simultaneous access events of different users and addresses apart (they are fields, not tags: review 1 finding 3)', async () => {
      const at = T0 + 20;
      const many = Array.from({ length: 40 }, (_, i) => ({ ts: at, kind: 'login-failed' as const, username: `guess-${i}`, address: `10.3.0.${i}`, reason: 'HW_ERR_BAD_LOGIN' }));
      await store.writeAccessEvents(many);
      const back = await store.queryAccessEvents({ since: at, until: at, limit: 100 });
      expect(back.map((e) => e.username).sort()).toEqual(many.map((e) => e.username).sort());
    });

    it('stores shift exposure records per monitoring point, replaces one written again, and reads them back by shift start', async () => {
      const H = 3600_000;
      const shift = (startMs: number, cTwa: number, extra: Partial<ShiftRecord> = {}): ShiftRecord => ({ sensorId: 's 1,x', enterpriseId: 'e 1', agent: 'gas.co', shift: '白班 "day"', startMs, endMs: startMs + 8 * H, cTwa, coverage: 0.75, limit: 20, exceeded: cTwa > 20, ...extra });
      await store.writeShiftRecords([shift(T0, 12.5), shift(T0 + 8 * H, 25)]);
      await store.writeShiftRecords([shift(T0 + 8 * H, 26)]); // the same shift again: replaced, not doubled
      await store.writeShiftRecords([{ sensorId: 'n1', enterpriseId: 'e1', agent: 'noise', shift: 'A', startMs: T0, endMs: T0 + 4 * H, cTwa: 1, lex8h: 90, dosePct: 100, coverage: 1, limit: 90, exceeded: false }]);
      const back = await store.queryShiftRecords({ sensorId: 's 1,x', from: T0, to: T0 + 8 * H });
      expect(back).toEqual([shift(T0, 12.5), shift(T0 + 8 * H, 26)]);
      expect(await store.queryShiftRecords({ sensorId: 's 1,x', from: T0 + 1, to: T0 + 8 * H - 1 })).toEqual([]);
      expect(await store.queryShiftRecords({ sensorId: 'n1', from: T0, to: T0 })).toEqual([{ sensorId: 'n1', enterpriseId: 'e1', agent: 'noise', shift: 'A', startMs: T0, endMs: T0 + 4 * H, cTwa: 1, lex8h: 90, dosePct: 100, coverage: 1, limit: 90, exceeded: false }]);
    });

    it('reports health', async () => {
      expect((await store.health()).ok).toBe(true);
    });
  });

contract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-sqlite-'));
  return { store: createSqliteStore(dir, silentLogger()), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
});

contract('influxdb (real influxd)', async () => {
  const config = { url: inject('influxUrl'), database: `contract_${Date.now()}`, retentionPolicy: '', org: '', bucket: '', token: '', username: '', password: '', timeoutMs: 5000 };
  return { store: createInfluxStore(config, silentLogger()), cleanup: async () => {} };
});
