import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.ts';
import { createSqliteStore } from '../src/store/sqlite-store.ts';
import type { AlertEvent, Reading } from '../src/types.ts';

const H = 3600_000;
const T0 = Date.UTC(2026, 9, 1);
const reading = (ts: number, value: number): Reading => ({ enterpriseId: 'e', gatewayId: 'g', sensorId: 's', agent: 'gas.co', ts, value, unit: 'ppm', valueStd: value });
const event = (kind: AlertEvent['kind'], ts: number, state: 'open' | 'cleared'): AlertEvent => ({
  alertId: `s:twa:${T0}`, kind, ts,
  alert: { id: `s:twa:${T0}`, sensorId: 's', rule: 'twa', enterpriseId: 'e', gatewayId: 'g', agent: 'gas.co', townshipId: 't', level: 'orange', state, openedAt: T0, updatedAt: ts, reason: { metric: 'C_TWA', value: 30, limit: 20, unit: 'mg/m3', source: 'GBZ 2.1-2019' } },
});

/**
 * The embedded store's rollups (issue 12 review findings 2 and 6): a data dir written
 * before reading_hour and alert_state existed gets them filled from its rows once, when
 * it is opened, so an upgrade neither loses the KPI's counts nor an alert still open.
 */
describe('sqlite store rollups', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-rollup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fills reading_hour and alert_state from a data dir that had neither', async () => {
    const a = createSqliteStore(dir, silentLogger());
    await a.start();
    await a.writeReadings([reading(T0, 1), reading(T0 + 1000, 2), reading(T0 + H + 1, 3)]);
    await a.writeAlertEvents([event('raised', T0, 'open')]);
    await a.stop();
    // As a data dir from before the rollups: drop them.
    const db = new Database(join(dir, 'hazardwatch.sqlite'));
    db.exec('DROP TABLE reading_hour; DROP TABLE alert_state;');
    db.close();

    const b = createSqliteStore(dir, silentLogger());
    await b.start();
    expect(await b.countReadingsPerHour({ sensorIds: ['s'], from: T0, to: T0 + 2 * H })).toEqual([{ sensorId: 's', hour: T0, n: 2 }, { sensorId: 's', hour: T0 + H, n: 1 }]);
    expect((await b.queryActiveAlerts({ limit: 10 })).map((e) => e.kind)).toEqual(['raised']);
    // And kept from then on.
    await b.writeReadings([reading(T0 + 2000, 4), reading(T0, 5)]);
    await b.writeAlertEvents([event('cleared', T0 + 5 * H, 'cleared')]);
    expect(await b.countReadingsPerHour({ sensorIds: ['s'], from: T0, to: T0 + H })).toEqual([{ sensorId: 's', hour: T0, n: 3 }]);
    expect(await b.queryActiveAlerts({ limit: 10 })).toEqual([]);
    await b.stop();
  });
});
