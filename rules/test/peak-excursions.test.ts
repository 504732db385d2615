import { describe, expect, it } from 'vitest';
import { demo } from '../../test/fixtures.ts';
import { useEngine } from './engine-fixture.ts';
import { PeakExcursionTracker } from '../src/peak-excursions.ts';
import { peakExcursion } from '../src/segments.ts';

/**
 * GBZ 2.1-2019 peak excursion for TWA-only agents (issue 12 item 3b), with the derived
 * vectors of oel.md §A.3 [C]: cement dust, respirable, PC-TWA 1.5 → 3× = 4.5, 5× = 7.5;
 * other dust, total, PC-TWA 8 → 3× = 24, 5× = 40. Rule (oel.md §A.1, status S): each excursion
 * above 3 × PC-TWA ≤ 15 min, ≤ 4 a shift, ≥ 1 h apart.
 */
const MIN = 60_000;
const H = 60 * MIN;
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai
const HOLD = MIN;

/** Readings once a minute: `above` minutes of each excursion at `high`, else `base`. Returns the tracker's violation at the end. */
function run(pcTwa: number, plan: { at: number; minutes: number }[], high: number, base: number, totalMin: number, period = () => T0) {
  const t = new PeakExcursionTracker(HOLD);
  let v: ReturnType<PeakExcursionTracker['reading']>;
  for (let m = 0; m < totalMin; m++) {
    const inside = plan.some((p) => m >= p.at && m < p.at + p.minutes);
    v = t.reading(T0 + m * MIN, inside ? high : base, pcTwa, period());
  }
  return { v: v!, t };
}

describe('peak excursion tracker (peak-excursions.ts)', () => {
  it('cement dust, respirable: 4.6 (> 4.5) for 15 min is allowed; for 16 min it is not', () => {
    expect(run(1.5, [{ at: 30, minutes: 15 }], 4.6, 0.5, 120).v).toBeUndefined();
    expect(run(1.5, [{ at: 30, minutes: 16 }], 4.6, 0.5, 120).v).toEqual({ kind: 'duration', valueMin: 16 });
    // Exactly 3 × PC-TWA is not an excursion.
    expect(run(1.5, [{ at: 30, minutes: 60 }], 4.5, 0.5, 120).v).toBeUndefined();
  });
  it('other dust, total: 4 excursions of 10 min at 25 (> 24), 1 h 30 apart, are allowed; a 5th is not', () => {
    const four = [0, 100, 200, 300].map((at) => ({ at, minutes: 10 }));
    const r4 = run(8, four, 25, 4, 480);
    expect(r4.v).toBeUndefined();
    expect(r4.t.excursions).toBe(4);
    expect(run(8, [...four, { at: 400, minutes: 10 }], 25, 4, 480).v).toEqual({ kind: 'count', count: 5 });
  });
  it('excursions must be at least 1 h apart: 50 min after the previous end is not allowed; 60 min is', () => {
    expect(run(8, [{ at: 0, minutes: 10 }, { at: 60, minutes: 5 }], 25, 4, 120).v).toEqual({ kind: 'gap', gapMin: 50 });
    expect(run(8, [{ at: 0, minutes: 10 }, { at: 70, minutes: 5 }], 25, 4, 120).v).toBeUndefined();
  });
  it('counts restart with the shift; the same readings give the verdict of the CLI (segments.ts)', () => {
    let period = T0;
    const t = new PeakExcursionTracker(HOLD);
    for (let m = 0; m < 480; m++) t.reading(T0 + m * MIN, m % 100 < 5 ? 25 : 4, 8, period); // 5 excursions
    expect(t.violation).toEqual({ kind: 'count', count: 5 });
    period = T0 + 8 * H;
    expect(t.reading(T0 + 8 * H, 4, 8, period)).toBeUndefined();
    // Agreement with the auditor's calculation on the same data.
    const segs = Array.from({ length: 480 }, (_, m) => ({ startMs: T0 + m * MIN, endMs: T0 + (m + 1) * MIN, value: m % 100 < 5 ? 25 : 4 }));
    expect(peakExcursion(segs, 8).failures).toEqual(['5 excursions above 3 × PC-TWA (at most 4 a day)']);
  });
  it('a gap in the readings longer than the hold ends an excursion (uncovered time is not exposure)', () => {
    const t = new PeakExcursionTracker(HOLD);
    t.reading(T0, 25, 8, T0);
    // Next reading 20 min later, still high: the first excursion ended after its 1-min hold, this is a second one 19 min later.
    expect(t.reading(T0 + 20 * MIN, 25, 8, T0)).toEqual({ kind: 'gap', gapMin: 19 });
  });
});

describe('the live engine raises excursion by the GBZ 2.1 rule, not by a 15-min mean', () => {
  const { registry, catalogue } = demo();
  const t = useEngine('hw-pe-', { registry, catalogue, t0: T0 });
  const feed = (minutes: number, value: (m: number) => number) => {
    const s = registry.current.sensors.get('furniture-dawu.dust-1')!; // other dust, total: PC-TWA 8
    for (let m = 0; m < minutes; m++) {
      t.clock = T0 + m * MIN;
      t.engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: t.clock, value: value(m), unit: 'mg/m3', valueStd: value(m) }]);
    }
  };
  const excursion = () => t.events.filter((e) => e.alert.rule === 'excursion');

  it('13 min at 30 (3× = 24 < 30 < 40 = 5×) is compliant: no orange, though its 15-min mean (26.5) is above 3 × PC-TWA', () => {
    feed(60, (m) => (m >= 20 && m < 33 ? 30 : 4));
    expect(excursion()).toEqual([]);
    expect(t.events.filter((e) => e.alert.level === 'red')).toEqual([]);
  });
  it('20 min at 30 breaks the 15-min bound: orange, stating the rule', () => {
    feed(60, (m) => (m >= 20 && m < 40 ? 30 : 4));
    const [e] = excursion();
    expect(e).toMatchObject({ kind: 'raised', alert: { level: 'orange', reason: { limit: 15, unit: 'min' } } });
    expect(e!.alert.reason.value).toBeGreaterThan(15);
  });
});
