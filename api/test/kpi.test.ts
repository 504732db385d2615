import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../core/src/store/store.ts';
import type { Alert, AlertEvent, AlertLevel, Reading } from '../../core/src/types.ts';
import type { HazardwatchApp } from '../src/app.ts';
import { MAX_HISTORIES } from '../../kpi/src/kpi-inputs.ts';
import { startApp, stopApp, tokensFor, type AppFixture } from './app-fixture.ts';

/**
 * GET /api/kpi end to end (issue 12 item 6): stored readings and alert events in a real
 * SQLite store, the real rules engine and app, a fixed past period of two hours.
 */
const H = 3600_000;
const D = 24 * H;
const T = Date.UTC(2026, 9, 1, 8); // the period [T, T + 2 h)

describe('GET /api/kpi: pass rate regulators can trust', () => {
  let f: AppFixture;
  let store: Store;
  let hw: HazardwatchApp;
  let token = '';

  const readings = (id: string, from: number, to: number, stepMs: number): Reading[] => {
    const s = f.registry.current.sensors.get(id)!;
    const out: Reading[] = [];
    for (let ts = from; ts < to; ts += stepMs) out.push({ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: id, agent: s.agent, ts, value: 0.1, unit: s.agentDef.unit, valueStd: 0.1 });
    return out;
  };
  const event = (sensorId: string, alertId: string, kind: AlertEvent['kind'], ts: number, level: AlertLevel, openedAt: number): AlertEvent => {
    const s = f.registry.current.sensors.get(sensorId)!;
    const alert: Alert = {
      id: alertId, sensorId, rule: 'twa', enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, agent: s.agent, townshipId: 'xz-tongshan-liguo',
      level, state: kind === 'cleared' ? 'cleared' : kind === 'acknowledged' ? 'acknowledged' : 'open', openedAt, updatedAt: ts,
      reason: { metric: 'twa8h', value: 9, limit: 1.5, unit: 'mg/m3', source: 'GBZ 2.1-2019' },
    };
    return { alertId, kind, ts, alert };
  };
  const kpi = async (query: string) => {
    const res = await hw.app.inject({ method: 'GET', url: `/api/kpi?${query}`, headers: { authorization: `Bearer ${token}` } });
    return { status: res.statusCode, body: res.json() as unknown };
  };

  beforeAll(async () => {
    f = await startApp('hw-kpi-', { rules: true, loadHistory: true });
    ({ store, hw } = f);
    token = (await tokensFor(hw, ['district'])).district!;

    // Every Liguo sensor reports every 2 s (its registry interval) through the period, except:
    const full = ['cement-liguo.dust-resp-1', 'cement-liguo.dust-total-1', 'cement-liguo.so2-1', 'foundry-liguo.silica-resp-1', 'foundry-liguo.silica-total-1', 'foundry-liguo.weld-1'];
    for (const id of full) await store.writeReadings(readings(id, T, T + 2 * H, 2000));
    await store.writeReadings(readings('cement-liguo.noise-1', T, T + H, 2000)); // the first hour only: 50 %
    await store.writeReadings(readings('foundry-liguo.co-1', T, T + H, 1000)); // 3600 in the first hour, none in the second: a burst is 50 %, not 100 %
    await store.writeReadings([...readings('foundry-liguo.noise-1', T, T + H, 2000), ...readings('foundry-liguo.noise-1', T + H, T + H + 0.6 * H, 2000)]); // 80 %
    await store.writeAlertEvents([
      // Raised five days before the period and never cleared: no event inside the period.
      event('cement-liguo.dust-resp-1', 'a-open', 'raised', T - 5 * D, 'orange', T - 5 * D),
      // Raised and cleared before the period: passes.
      event('cement-liguo.dust-total-1', 'a-old', 'raised', T - 3 * D, 'red', T - 3 * D),
      event('cement-liguo.dust-total-1', 'a-old', 'cleared', T - 2 * D, 'red', T - 3 * D),
      // Action level only (yellow), still open: passes.
      event('cement-liguo.so2-1', 'a-yellow', 'raised', T - D, 'yellow', T - D),
      // Opened 45 days before the period (before the 30-day lookback), acknowledged 10 days before it, still open.
      event('foundry-liguo.weld-1', 'a-long', 'raised', T - 45 * D, 'orange', T - 45 * D),
      event('foundry-liguo.weld-1', 'a-long', 'acknowledged', T - 10 * D, 'orange', T - 45 * D),
    ]);
  });
  afterAll(() => stopApp(f));

  it('fails points whose exceedance began before the period and is still active, and reports points with too little data as not assessed', async () => {
    const res = await kpi(`jurisdiction=xz-tongshan-liguo&from=${T}&to=${T + 2 * H}`);
    expect(res.status).toBe(200);
    const [row] = res.body as Record<string, unknown>[];
    // 9 points: failing dust-resp-1 and weld-1; not assessed cement noise (50 %) and CO (burst, 50 %); 5 passing.
    expect(row).toMatchObject({ jurisdictionId: 'xz-tongshan-liguo', points: 9, failing: 2, notAssessed: 2, passing: 5, assessed: 7, completenessThresholdPct: 75 });
    expect(row!.passRatePct).toBeCloseTo((100 * 5) / 7, 1);
    expect(row!.meetsTarget).toBe(false);
    // (6 × 3600 + 1800 + 1800 + 2880) / (9 × 3600) = 86.7 %
    expect(row!.dataCompletenessPct).toBeCloseTo(86.7, 1);
  });

  it('the same points pass in a period after the open exceedances were cleared', async () => {
    await store.writeAlertEvents([
      event('cement-liguo.dust-resp-1', 'a-open', 'cleared', T + 2 * H, 'orange', T - 5 * D),
      event('foundry-liguo.weld-1', 'a-long', 'cleared', T + 2 * H, 'orange', T - 45 * D),
    ]);
    const later = T + 2 * H;
    for (const id of ['cement-liguo.dust-resp-1', 'foundry-liguo.weld-1']) await store.writeReadings(readings(id, later, later + H, 2000));
    const [row] = (await kpi(`jurisdiction=xz-tongshan-liguo&from=${later}&to=${later + H}`)).body as Record<string, unknown>[];
    expect(row).toMatchObject({ failing: 0, passing: 2, notAssessed: 7, passRatePct: 100 });
  });

  it('fails a point whose orange twa alert was raised 61 days before the period and never changed since (issue 12 review 6)', async () => {
    const id = 'foundry-liguo.silica-resp-1';
    await store.writeAlertEvents([event(id, 'a-61d', 'raised', T - 61 * D, 'orange', T - 61 * D)]);
    const [row] = (await kpi(`jurisdiction=xz-tongshan-liguo&from=${T}&to=${T + 2 * H}`)).body as Record<string, unknown>[];
    // dust-resp-1 and weld-1 (cleared only at the period's end) and now silica-resp-1.
    expect(row).toMatchObject({ points: 9, failing: 3, passing: 4, notAssessed: 2, alertHistoriesNotRead: 0, activeAlertsTruncated: false });
  });

  it('reports alert histories it did not read (past MAX_HISTORIES) in the answer, never silently', async () => {
    const id = 'foundry-liguo.silica-total-1';
    const opened = T - 40 * D;
    const events: AlertEvent[] = [];
    for (let i = 0; i <= MAX_HISTORIES; i++) {
      // Opened before the 30-day look-back, with an event inside it: its whole history is fetched one by one.
      events.push(event(id, `a-many-${i}`, 'raised', opened + i, 'yellow', opened + i), event(id, `a-many-${i}`, 'acknowledged', T - D + i, 'yellow', opened + i));
    }
    await store.writeAlertEvents(events);
    const res = await kpi(`jurisdiction=xz-tongshan-liguo&from=${T}&to=${T + 2 * H}`);
    expect(res.status).toBe(200);
    const [row] = res.body as Record<string, unknown>[];
    // MAX_HISTORIES + 1 of these and weld-1's a-long (opened 45 days before) need their history: 2 not read.
    expect(row).toMatchObject({ alertHistoriesNotRead: 2, activeAlertsTruncated: false });
  });

  it('refuses an empty, reversed or over-long period with a coded 400 naming the field', async () => {
    for (const q of [`from=${T}&to=${T}`, `from=${T + H}&to=${T}`, `from=0&to=${400 * D}`, `from=${T}&to=9e15`]) {
      const res = await kpi(q);
      expect(res.status, q).toBe(400);
      expect((res.body as { message: string }).message, q).toMatch(/querystring\/(from|to)/);
    }
  });
});
