import { describe, expect, it } from 'vitest';
import type { Alert, AlertEvent, AlertLevel } from '../../core/src/types.ts';
import { COMPLETENESS_THRESHOLD_PCT, completeness, completenessPct } from '../src/data-completeness.ts';
import { exceedanceIntervals, exceededIn } from '../src/exceedance-intervals.ts';
import { passRates } from '../src/pass-rate.ts';
import { demo } from '../../test/fixtures.ts';

const H = 3600_000;
const D = 24 * H;
const T = Date.UTC(2026, 9, 1); // period [T, T + 2 h)

function ev(alertId: string, kind: AlertEvent['kind'], ts: number, level: AlertLevel, opts: { rule?: string; openedAt?: number; sensorId?: string; cleared?: boolean } = {}): AlertEvent {
  const alert: Alert = {
    id: alertId, sensorId: opts.sensorId ?? 'cement-liguo.dust-resp-1', rule: opts.rule ?? 'twa', enterpriseId: 'cement-liguo', gatewayId: 'gw1', agent: 'dust.cement.respirable', townshipId: 'xz-tongshan-liguo',
    level, state: opts.cleared || kind === 'cleared' || kind === 'resolved' ? 'cleared' : 'open', openedAt: opts.openedAt ?? ts, updatedAt: ts,
    reason: { metric: 'twa8h', value: 2, limit: 1.5, unit: 'mg/m3', source: 'GBZ 2.1-2019' },
  };
  return { alertId, kind, ts, alert };
}

describe('exceedance intervals from alert events', () => {
  it('an alert raised before the period and still open fails the point (it used to need an event inside the period)', () => {
    const iv = exceedanceIntervals([ev('a', 'raised', T - 5 * D, 'orange')]).get('cement-liguo.dust-resp-1');
    expect(iv).toEqual([{ startMs: T - 5 * D, endMs: Infinity }]);
    expect(exceededIn(iv, T, T + 2 * H)).toBe(true);
  });
  it('one raised and cleared before the period, or cleared exactly at its start, does not', () => {
    const iv = exceedanceIntervals([ev('a', 'raised', T - 3 * D, 'red'), ev('a', 'cleared', T - 2 * D, 'red'), ev('b', 'raised', T - D, 'orange'), ev('b', 'cleared', T, 'orange')]).get('cement-liguo.dust-resp-1');
    expect(exceededIn(iv, T, T + 2 * H)).toBe(false);
  });
  it('only orange and red of an exposure rule count: yellow (action level), forecasts and faults do not', () => {
    const m = exceedanceIntervals([
      ev('y', 'raised', T - D, 'yellow'), ev('f', 'raised', T + H, 'blue', { rule: 'forecast-twa' }), ev('d', 'raised', T + H, 'orange', { rule: 'dead-man' }),
    ]);
    expect(exceededIn(m.get('cement-liguo.dust-resp-1'), T, T + 2 * H)).toBe(false);
  });
  it('follows escalation and de-escalation: yellow → orange inside the period fails; orange → yellow before it does not', () => {
    expect(exceededIn(exceedanceIntervals([ev('a', 'raised', T - D, 'yellow'), ev('a', 'escalated', T + H, 'orange')]).get('cement-liguo.dust-resp-1'), T, T + 2 * H)).toBe(true);
    expect(exceededIn(exceedanceIntervals([ev('a', 'raised', T - D, 'orange'), ev('a', 'deescalated', T - H, 'yellow')]).get('cement-liguo.dust-resp-1'), T, T + 2 * H)).toBe(false);
    // acknowledged keeps the exceedance: it is still above the limit.
    expect(exceededIn(exceedanceIntervals([ev('a', 'raised', T - D, 'orange'), ev('a', 'acknowledged', T - H, 'orange')]).get('cement-liguo.dust-resp-1'), T, T + 2 * H)).toBe(true);
  });
  it('a history read from its middle (raised long ago) counts from the alert’s openedAt', () => {
    const iv = exceedanceIntervals([ev('a', 'acknowledged', T - 10 * D, 'orange', { openedAt: T - 45 * D })]).get('cement-liguo.dust-resp-1');
    expect(iv).toEqual([{ startMs: T - 45 * D, endMs: Infinity }]);
  });
});

describe('data completeness', () => {
  it('received over expected readings from the reporting interval: 2 s for 2 h expects 3600', () => {
    const c = completeness([{ hour: T, n: 1800 }, { hour: T + H, n: 1080 }], 2, T, T + 2 * H);
    expect(c.expected).toBe(3600);
    expect(completenessPct(c)).toBeCloseTo(80, 9);
  });
  it('a burst cannot make up a gap: each hour counts at most what it should hold', () => {
    // 3600 readings in the first hour (1 s apart), none in the second: 50 %, not 100 %.
    expect(completenessPct(completeness([{ hour: T, n: 3600 }], 2, T, T + 2 * H))).toBeCloseTo(50, 9);
  });
  it('a period that starts inside an hour expects only its share of that hour', () => {
    const c = completeness([{ hour: T, n: 1800 }], 2, T + H / 2, T + H);
    expect(c.expected).toBe(900);
    expect(c.received).toBe(900);
  });
  it('the threshold is 75 %', () => expect(COMPLETENESS_THRESHOLD_PCT).toBe(75));
});

describe('pass rate', () => {
  it('a point with too few readings is not assessed, not passing; the rate is over assessed points only', () => {
    const { registry } = demo();
    const reg = registry.current;
    const township = 'xz-tongshan-liguo';
    const ids = [...reg.sensors.values()].filter((s) => s.enterpriseId.endsWith('-liguo')).map((s) => s.id);
    const full = { received: 3600, expected: 3600 };
    const comp = new Map(ids.map((id) => [id, full]));
    comp.set('cement-liguo.noise-1', { received: 1800, expected: 3600 }); // 50 %: not assessed
    comp.set('foundry-liguo.noise-1', { received: 2700, expected: 3600 }); // exactly 75 %: assessed
    const exceedances = exceedanceIntervals([ev('a', 'raised', T - 5 * D, 'orange')]);
    const [row] = passRates({ registry: reg, jurisdictionIds: [township], exceedances, completeness: comp, from: T, to: T + 2 * H, defaultTargetPct: 85, enterpriseGrade: () => undefined });
    expect(row).toMatchObject({ points: ids.length, failing: 1, notAssessed: 1, passing: ids.length - 2, assessed: ids.length - 1, completenessThresholdPct: 75 });
    expect(row!.passRatePct).toBeCloseTo((100 * (ids.length - 2)) / (ids.length - 1), 1);
    expect(row!.dataCompletenessPct).toBeCloseTo((100 * (3600 * (ids.length - 2) + 1800 + 2700)) / (3600 * ids.length), 1);
  });
  it('a failing point with little data still fails: an observed exceedance needs no completeness', () => {
    const { registry } = demo();
    const [row] = passRates({ registry: registry.current, jurisdictionIds: ['xz-tongshan-liguo'], exceedances: exceedanceIntervals([ev('a', 'raised', T + H, 'red')]), completeness: new Map(), from: T, to: T + 2 * H, defaultTargetPct: 85, enterpriseGrade: () => undefined });
    expect(row).toMatchObject({ failing: 1, passing: 0, passRatePct: 0, dataCompletenessPct: 0, meetsTarget: false });
  });
});
