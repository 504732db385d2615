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
