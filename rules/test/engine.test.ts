import { describe, expect, it } from 'vitest';
import type { AlertEvent, Reading } from '../../core/src/types.ts';
import { demo } from '../../test/fixtures.ts';
import { readingOf, useEngine } from './engine-fixture.ts';

/** An injected clock: the engine's lifecycle runs on it; readings carry their own times. */
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai: start of the 白班 shift
const { registry, catalogue } = demo();
const reading = readingOf(registry);

describe('rules engine (injected clock, real SQLite store)', () => {
  const t = useEngine('hw-rules-', { registry, catalogue, t0: T0 });

  /** Feed one reading every `stepMs` from `from` for `count` readings, moving the t.clock along. */
  const feed = (id: string, from: number, count: number, stepMs: number, value: (i: number) => number) => {
    const rs: Reading[] = [];
    for (let i = 0; i < count; i++) {
      t.clock = from + i * stepMs;
      const r = reading(id, t.clock, value(i));
      rs.push(r);
      t.engine.handleReadings([r]);
    }
    return rs;
  };
  const of = (rule: string, sensorId?: string) => t.events.filter((e) => e.alert.rule === rule && (!sensorId || e.alert.sensorId === sensorId));

  it('a constant exposure over 8 h gives a TWA equal to it (GBZ 2.1 C_TWA = ΣCiTi / 8 h), and the minute snapshot stores it', async () => {
    const id = 'chem-dawu.toluene-1';
    feed(id, T0, 8 * 60 + 1, 60_000, () => 30);
    const x = t.engine.exposure(id)!;
    expect(x.twa8h).toBeCloseTo(30, 6);
    expect(x.coverage8h).toBeCloseTo(1, 6);
    expect(x.stel15).toBeCloseTo(30, 6);
    t.clock += 60_000;
    t.engine.tick();
    await new Promise((r) => setTimeout(r, 10));
    const history = await t.store.queryExposure({ sensorId: id, from: T0, to: t.clock });
    expect(history).toHaveLength(1);
    expect(history[0]!.ts % 60_000).toBe(0);
    expect(history[0]!.stel15).toBeCloseTo(30, 6);
  });

  it('counts gaps as unexposed and reports coverage, never carrying a value forward (4 h at 40 then silence → ~20)', () => {
    const id = 'chem-dawu.toluene-1';
    // Readings each minute for 4 h; then nothing for 4 h. A reading holds at most
    // max(3 intervals, 60 s) = 60 s here: the silence is not filled.
    feed(id, T0, 4 * 60 + 1, 60_000, () => 40);
    t.clock = T0 + 8 * 3600_000;
    const x = t.engine.exposure(id)!;
    // 4 h × 40 plus the last reading's 60-s hold, over 8 h (GBZ: uncovered time counts as unexposed).
    expect(x.twa8h).toBeCloseTo((40 * (4 * 3600_000 + 60_000)) / (8 * 3600_000), 6);
    expect(x.coverage8h).toBeCloseTo((4 * 3600_000 + 60_000) / (8 * 3600_000), 6);
  });

  it('raises yellow at the action level (½ PC-TWA), escalates to orange above PC-TWA, and keeps both in the history', () => {
    const id = 'chem-dawu.toluene-1'; // PC-TWA 50 mg/m3 (GBZ 2.1-2019)
    feed(id, T0, 8 * 60, 60_000, () => 30); // TWA → 30 ≥ 25: yellow
    expect(of('twa', id).map((e) => [e.kind, e.alert.level])).toEqual([['raised', 'yellow']]);
    feed(id, T0 + 8 * 60 * 60_000, 8 * 60, 60_000, () => 80); // TWA → 80 > 50: orange
    expect(of('twa', id).map((e) => [e.kind, e.alert.level])).toEqual([['raised', 'yellow'], ['escalated', 'orange']]);
    const alertId = of('twa', id)[0]!.alertId;
    expect(of('twa', id).every((e) => e.alertId === alertId)).toBe(true);
  });

  it('escalates at once, de-escalates and clears only after the hold time (no flapping)', () => {
    const id = 'coal-liuxin.h2s-1'; // MAC 10 mg/m3, action level 5
    t.engine.handleReadings([reading(id, (t.clock = T0), 12)]);
    expect(of('mac', id).map((e) => e.kind)).toEqual(['raised']);
    // Bouncing between the action band and above the MAC for 20 s: the alert stays red.
    for (let i = 1; i <= 10; i++) t.engine.handleReadings([reading(id, (t.clock = T0 + i * 2000), i % 2 ? 6 : 11)]);
    expect(of('mac', id).map((e) => [e.kind, e.alert.level])).toEqual([['raised', 'red']]);
    // In the action band for longer than the 60-s hold: de-escalated to yellow, once.
    for (let i = 0; i < 40; i++) t.engine.handleReadings([reading(id, (t.clock = T0 + 30_000 + i * 2000), 6)]);
    expect(of('mac', id).map((e) => [e.kind, e.alert.level])).toEqual([['raised', 'red'], ['deescalated', 'yellow']]);
    t.events = [];
    // Calm (below 0.9 × 5) for less than the hold: still active.
    for (let i = 0; i < 20; i++) t.engine.handleReadings([reading(id, (t.clock = T0 + 200_000 + i * 2000), 1)]);
    expect(of('mac', id)).toEqual([]);
    // Calm for the whole hold: cleared, once.
    for (let i = 20; i < 40; i++) t.engine.handleReadings([reading(id, (t.clock = T0 + 200_000 + i * 2000), 1)]);
    expect(of('mac', id).map((e) => e.kind)).toEqual(['cleared']);
  });

  it('opens exactly one alert per (sensor, rule) when a burst of over-limit readings arrives at once', async () => {
    const id = 'coal-liuxin.h2s-1';
    const burst = Array.from({ length: 200 }, (_, i) => reading(id, T0 + i, 20 + (i % 7)));
    await Promise.all([0, 1, 2, 3].map((k) => Promise.resolve().then(() => t.engine.handleReadings(burst.slice(k * 50, k * 50 + 50)))));
    expect(of('mac', id).filter((e) => e.kind === 'raised')).toHaveLength(1);
    expect(t.engine.activeAlerts().filter((a) => a.sensorId === id && a.rule === 'mac')).toHaveLength(1);
  });

  it('dead-man: detects a silent sensor within 2× its timeout, and one that never reported', () => {
    const id = 'cement-liguo.noise-1'; // interval 2 s → timeout max(15 s, 5 × 2 s) = 15 s
    t.engine.handleReadings([reading(id, (t.clock = T0 + 1000), 80)]);
    let detectedAt: number | undefined;
    for (let now = T0 + 1000; now <= T0 + 1000 + 30_000 && detectedAt === undefined; now += 7500) {
      t.clock = now;
      t.engine.tick();
      if (of('dead-man', id).length) detectedAt = now;
    }
    expect(detectedAt).toBeDefined();
    expect(detectedAt! - (T0 + 1000)).toBeGreaterThan(15_000);
    expect(detectedAt! - (T0 + 1000)).toBeLessThanOrEqual(30_000);
    // Sensors that never reported are reported as such.
    const never = of('dead-man').find((e) => e.alert.sensorId === 'chem-dawu.cl2-1')!;
    expect(never.alert.reason.metric).toBe('never reported since start');
    // Reporting again clears at once.
    t.engine.handleReadings([reading(id, (t.clock += 1000), 80)]);
    t.engine.tick();
    expect(of('dead-man', id).map((e) => e.kind)).toEqual(['raised', 'cleared']);
  });

  it('flags a flatlined sensor and a drifting one (clamped readings)', () => {
    feed('cement-liguo.so2-1', T0, 40, 20_000, () => 1.234);
    expect(of('fault-flatline', 'cement-liguo.so2-1').map((e) => e.alert.level)).toEqual(['yellow']);
    const id = 'cement-liguo.dust-resp-1';
    for (let i = 0; i < 12; i++) t.engine.handleReadings([reading(id, (t.clock = T0 + i * 2000), 0, { value: -0.3, clamped: true })]);
    expect(of('fault-negative-drift', id)).toHaveLength(1);
  });

  it('warns (blue) before the limit is crossed in a rising scenario, stating the projected value and time', () => {
    const id = 'chem-dawu.toluene-1'; // PC-STEL 100
    let firstWarning: AlertEvent | undefined;
    let crossedAt: number | undefined;
    for (let i = 0; i < 600; i++) {
      const v = 20 + i * 0.5; // rising 0.5 mg/m3 every 10 s
      t.clock = T0 + i * 10_000;
      t.engine.handleReadings([reading(id, t.clock, v)]);
      firstWarning ??= of('forecast-stel', id)[0];
      if (crossedAt === undefined && of('stel', id).length) crossedAt = t.clock;
    }
    expect(firstWarning).toBeDefined();
    expect(crossedAt).toBeDefined();
    expect(firstWarning!.ts).toBeLessThan(crossedAt!);
    expect(firstWarning!.alert.level).toBe('blue');
    expect(firstWarning!.alert.reason.limit).toBe(100);
    expect(firstWarning!.alert.reason.expectedAt).toBeGreaterThan(firstWarning!.ts);
    // The projection is honest: the crossing happens within the horizon it announced.
    expect(crossedAt! - firstWarning!.alert.reason.expectedAt!).toBeLessThan(15 * 60_000);
  });

  it('rebuilds windows and open alerts from the store: a restart mid-shift changes no TWA and reopens nothing', async () => {
    const id = 'chem-dawu.toluene-1';
    const rs = feed(id, T0, 4 * 60, 60_000, (i) => 60 + (i % 3));
    await t.store.writeReadings(rs);
    const before = t.engine.exposure(id)!;
    await t.engine.flush();
    const raised = t.events.filter((e) => e.kind === 'raised').length;
    await t.engine.stop();

    t.events = [];
    t.engine = t.make();
    await t.engine.start();
    const after = t.engine.exposure(id)!;
    expect(after.twa8h).toBeCloseTo(before.twa8h, 9);
    expect(after.stel15).toBeCloseTo(before.stel15, 9);
    // C_TWA ~30.5 after 4 h: at or above the action level ½ PC-TWA (yellow twa). The end-of-shift
    // forecast of the same limit (PC-TWA) is not kept beside it (issue 12 item 3).
    expect(t.engine.activeAlerts().filter((a) => a.sensorId === id).map((a) => a.rule).sort()).toEqual(['twa']);
    // The next reading keeps the restored alert: no second 'raised'.
    t.engine.handleReadings([reading(id, (t.clock = T0 + 4 * 3600_000), 60)]);
    expect(t.events.filter((e) => e.kind === 'raised' && e.alert.sensorId === id)).toEqual([]);
    expect(raised).toBeGreaterThan(0);
  });
});
