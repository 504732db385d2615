import { describe, expect, it } from 'vitest';
import { demo } from '../../test/fixtures.ts';
import { useEngine } from './engine-fixture.ts';

/**
 * Issue 12 item 3(a): at each shift's end the engine stores the shift's exposure per
 * monitoring point and raises `shift-twa` above the limit. Expected values from GBZ 2.1's
 * C_TWA = ΣCiTi / 8 h, a shorter shift still divided by 8 h (oel.md §A.1, status V).
 */
const H = 3600_000;
const MIN = 60_000;
const DAY = 24 * H;
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai: chem-dawu's 白班 08:00–16:00
const { registry, catalogue } = demo();

describe('shift exposure records and the shift-twa alert', () => {
  const t = useEngine('hw-shift-', { registry, catalogue, t0: T0 });
  const feed = (id: string, from: number, minutes: number, value: number) => {
    const s = registry.current.sensors.get(id)!;
    for (let i = 0; i < minutes; i++) {
      t.clock = from + i * MIN;
      t.engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: id, agent: s.agent, ts: t.clock, value, unit: s.agentDef.unit, valueStd: value }]);
    }
  };
  const shiftEvents = () => t.events.filter((e) => e.alert.rule === 'shift-twa').map((e) => [e.kind, e.alert.level]);

  it('6 h at 80 mg/m3 toluene in an 8-h shift: C_TWA = 80 × 6 / 8 = 60 > PC-TWA 50, stored at the end and raised orange; a compliant next shift clears it', async () => {
    const id = 'chem-dawu.toluene-1';
    feed(id, T0, 6 * 60, 80); // 08:00–14:00, then silent
    t.clock = T0 + 8 * H - 1;
    t.engine.tick();
    expect(shiftEvents()).toEqual([]); // not before the end
    t.clock = T0 + 8 * H + 2 * MIN;
    t.engine.tick();
    expect(shiftEvents()).toEqual([['raised', 'orange']]);
    await t.engine.flush();
    const [rec] = await t.store.queryShiftRecords({ sensorId: id, from: T0, to: T0 });
    expect(rec).toMatchObject({ shift: '白班', startMs: T0, endMs: T0 + 8 * H, limit: 50, exceeded: true, coverage: 0.75 });
    expect(rec!.cTwa).toBeCloseTo(60, 9);
    const alert = t.engine.activeAlerts().find((a) => a.sensorId === id && a.rule === 'shift-twa')!;
    expect(alert.reason).toMatchObject({ limit: 50, unit: 'mg/m3', coverage: 0.75 });
    expect(alert.reason.value).toBeCloseTo(60, 9);

    // Next day: 8 h at 10, then a reading after the end closes the shift at once.
    feed(id, T0 + DAY, 8 * 60, 10);
    feed(id, T0 + DAY + 8 * H, 1, 10);
    expect(shiftEvents()).toEqual([['raised', 'orange'], ['cleared', 'orange']]);
    await t.engine.flush();
    const day2 = await t.store.queryShiftRecords({ sensorId: id, from: T0 + DAY, to: T0 + DAY });
    expect(day2).toHaveLength(1);
    expect(day2[0]!.cTwa).toBeCloseTo(10, 9);
    expect(day2[0]!.exceeded).toBe(false);
  });

  it('noise under GBZ 2.2: 4 h at 95 dB(A) in the shift is LEX,8h 95 + 10·lg(4/8) = 92.0 > 85, recorded with its dose', async () => {
    const id = 'chem-dawu.noise-1';
    feed(id, T0, 4 * 60, 95);
    t.clock = T0 + 8 * H + 2 * MIN;
    t.engine.tick();
    await t.engine.flush();
    const [rec] = await t.store.queryShiftRecords({ sensorId: id, from: T0, to: T0 });
    expect(rec!.lex8h).toBeCloseTo(95 + 10 * Math.log10(0.5), 9);
    expect(rec!.dosePct).toBeCloseTo(100 * 0.5 * 10, 9);
    expect(rec).toMatchObject({ limit: 85, exceeded: true });
    expect(shiftEvents()).toEqual([['raised', 'orange']]);
  });

  it('a restart after the shift ended rewrites its record but does not raise shift-twa again (the alert resolved by hand stays closed)', async () => {
    const s = registry.current.sensors.get('chem-dawu.toluene-1')!;
    const rs = Array.from({ length: 360 }, (_, i) => ({ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: T0 + i * MIN, value: 80, unit: 'mg/m3', valueStd: 80 }));
    await t.store.writeReadings(rs);
    feed(s.id, T0, 360, 80);
    t.clock = T0 + 8 * H + 2 * MIN;
    t.engine.tick();
    const alert = t.engine.activeAlerts().find((a) => a.rule === 'shift-twa')!;
    t.engine.resolve(alert.id, 'township', 'exceedance', 'ventilation repaired');
    await t.engine.stop();
    t.events = [];
    t.clock = T0 + 8 * H + 10 * MIN;
    t.engine = t.make();
    await t.engine.start();
    t.engine.tick();
    await t.engine.flush();
    expect(shiftEvents()).toEqual([]);
    const recs = await t.store.queryShiftRecords({ sensorId: s.id, from: T0, to: T0 });
    expect(recs).toHaveLength(1);
    expect(recs[0]!.cTwa).toBeCloseTo(60, 9);
  });

  it('a shift that began before the readings the t.engine holds is not recorded (its exposure would be partial)', async () => {
    // Readings stored from 12:00 (4 h into the shift); the t.engine restarts at 15:00 and restores 2 h.
    const s = registry.current.sensors.get('chem-dawu.toluene-1')!;
    await t.store.writeReadings(Array.from({ length: 180 }, (_, i) => ({ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: T0 + 4 * H + i * MIN, value: 80, unit: 'mg/m3', valueStd: 80 })));
    await t.engine.stop();
    t.clock = T0 + 7 * H;
    t.engine = t.make({ clearHoldMs: 60_000, restoreMs: 2 * H });
    await t.engine.start();
    feed(s.id, T0 + 7 * H, 61, 80);
    t.clock = T0 + 9 * H;
    t.engine.tick();
    await t.engine.flush();
    expect(await t.store.queryShiftRecords({ sensorId: s.id, from: T0, to: T0 })).toEqual([]);
    expect(shiftEvents()).toEqual([]);
  });
});
