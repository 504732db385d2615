import { describe, expect, it } from 'vitest';
import type { AlertEvent, Reading } from '../../core/src/types.ts';
import { demo } from '../../test/fixtures.ts';
import { createAlertManager } from '../src/alert-manager.ts';
import { useEngine } from './engine-fixture.ts';

/** Issue 12 item 1: an acknowledged alert that escalates is open again. */
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0);
const { registry, catalogue } = demo();
const H2S = 'coal-liuxin.h2s-1'; // GBZ 2.1-2019 MAC 10 mg/m3: yellow ≥ 5, red > 10
const reading = (ts: number, valueStd: number): Reading => {
  const s = registry.current.sensors.get(H2S)!;
  return { enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: H2S, agent: s.agent, ts, value: valueStd, unit: s.agentDef.unit, valueStd };
};

describe('acknowledged, then worse', () => {
  it('the alert manager reopens an acknowledged alert on escalation, clears the acknowledgement and emits the open state', () => {
    const events: AlertEvent[] = [];
    let clock = T0;
    const m = createAlertManager({ clearHoldMs: 30_000, now: () => clock, onEvent: (e) => events.push(e) });
    const base = { sensorId: 's', rule: 'mac', enterpriseId: 'e', gatewayId: 'g', agent: 'gas.h2s', townshipId: 't' };
    const raised = m.fire({ ...base, level: 'yellow', reason: { metric: 'c', value: 6, limit: 5, unit: 'mg/m3', source: 'x' } })!;
    clock += 1000;
    expect(m.acknowledge(raised.alertId, 'officer', 'ventilating')!.alert).toMatchObject({ state: 'acknowledged', ackBy: 'officer' });
    clock += 1000;
    const up = m.fire({ ...base, level: 'red', reason: { metric: 'c', value: 14, limit: 10, unit: 'mg/m3', source: 'x' } })!;
    expect(up.kind).toBe('escalated');
    expect(up.alertId).toBe(raised.alertId);
    expect(up.alert).toMatchObject({ level: 'red', state: 'open' });
    expect(up.alert.ackBy).toBeUndefined();
    expect(up.alert.ackNote).toBeUndefined();
    expect(m.get(raised.alertId)!.state).toBe('open');
    // The history keeps who acknowledged the lower level.
    expect(events.map((e) => [e.kind, e.alert.state, e.alert.level])).toEqual([
      ['raised', 'open', 'yellow'], ['acknowledged', 'acknowledged', 'yellow'], ['escalated', 'open', 'red'],
    ]);
    // It needs (and takes) a new acknowledgement.
    expect(m.acknowledge(raised.alertId, 'officer', 'evacuated')!.alert).toMatchObject({ state: 'acknowledged', level: 'red', ackNote: 'evacuated' });
  });

  it('a de-escalation keeps the acknowledgement (the alert got better, not worse)', () => {
    let clock = T0;
    const m = createAlertManager({ clearHoldMs: 30_000, now: () => clock, onEvent: () => {} });
    const base = { sensorId: 's', rule: 'mac', enterpriseId: 'e', gatewayId: 'g', agent: 'gas.h2s', townshipId: 't' };
    const red = { ...base, level: 'red' as const, reason: { metric: 'c', value: 14, limit: 10, unit: 'mg/m3', source: 'x' } };
    const yellow = { ...base, level: 'yellow' as const, reason: { metric: 'c', value: 6, limit: 5, unit: 'mg/m3', source: 'x' } };
    const id = m.fire(red)!.alertId;
    m.acknowledge(id, 'officer', 'seen');
    m.fire(yellow, (clock += 1000));
    const down = m.fire(yellow, (clock += 31_000))!;
    expect(down.kind).toBe('deescalated');
    expect(down.alert).toMatchObject({ level: 'yellow', state: 'acknowledged', ackBy: 'officer' });
  });

  describe('in the rules engine (real SQLite store)', () => {
    const t = useEngine('hw-reopen-', { registry, catalogue, t0: T0 });

    it('yellow acknowledged, then above the MAC: escalated to red and open, stored so, and still open after a restart', async () => {
      t.engine.handleReadings([reading((t.clock = T0), 6)]);
      const raised = t.events.find((e) => e.kind === 'raised' && e.alert.rule === 'mac')!;
      expect(raised.alert.level).toBe('yellow');
      expect(t.engine.acknowledge(raised.alertId, 'officer', 'checking')!.alert.state).toBe('acknowledged');
      t.engine.handleReadings([reading((t.clock = T0 + 2000), 14)]);
      const up = t.events.filter((e) => e.alertId === raised.alertId).at(-1)!;
      expect(up).toMatchObject({ kind: 'escalated', alert: { level: 'red', state: 'open' } });
      expect(t.engine.activeAlerts().find((a) => a.id === raised.alertId)).toMatchObject({ level: 'red', state: 'open' });
      await t.engine.flush();
      const stored = await t.store.queryAlertEvents({ alertId: raised.alertId });
      expect(stored.map((e) => [e.kind, e.alert.state])).toEqual([['raised', 'open'], ['acknowledged', 'acknowledged'], ['escalated', 'open']]);
      await t.engine.stop();
      t.engine = t.make();
      await t.engine.start();
      expect(t.engine.activeAlerts().find((a) => a.id === raised.alertId)).toMatchObject({ level: 'red', state: 'open' });
      expect(t.engine.acknowledge(raised.alertId, 'officer', 'evacuated')!.alert.state).toBe('acknowledged');
    });
  });
});
