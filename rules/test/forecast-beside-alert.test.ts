import { describe, expect, it } from 'vitest';
import { demo } from '../../test/fixtures.ts';
import { FORECAST_LIMIT_RULE, FORECAST_RULES } from '../src/early-warning.ts';
import { readingOf, useEngine } from './engine-fixture.ts';

/** Issue 12 item 3 (third part): a blue forecast is not raised beside an active alert of the same limit. */
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai: start of the 白班 shift
const { registry, catalogue } = demo();
const reading = readingOf(registry);

describe('no blue forecast beside an active alert of the same limit', () => {
  const t = useEngine('hw-fc-', { registry, catalogue, t0: T0 });

  /** Feeds readings and checks after each one that no forecast is active beside its limit's alert. */
  const feed = (id: string, from: number, count: number, stepMs: number, value: (i: number) => number) => {
    for (let i = 0; i < count; i++) {
      t.engine.handleReadings([reading(id, (t.clock = from + i * stepMs), value(i))]);
      const rules = new Set(t.engine.activeAlerts().filter((a) => a.sensorId === id).map((a) => a.rule));
      for (const f of FORECAST_RULES) if (rules.has(f) && rules.has(FORECAST_LIMIT_RULE[f])) throw new Error(`${f} beside ${FORECAST_LIMIT_RULE[f]} at reading ${i}`);
    }
  };
  const kinds = (id: string, rule: string) => t.events.filter((e) => e.alert.sensorId === id && e.alert.rule === rule).map((e) => e.kind);

  it('forecast-twa warns first, and clears at once when the twa alert is raised (toluene at 60–62 mg/m3, PC-TWA 50)', () => {
    const id = 'chem-dawu.toluene-1';
    feed(id, T0, 4 * 60, 60_000, (i) => 60 + (i % 3));
    // Projected end-of-shift C_TWA ~61 > 50 from the start: blue; C_TWA reaches ½ PC-TWA (25) after ~3.3 h: yellow twa.
    expect(kinds(id, 'forecast-twa')).toEqual(['raised', 'cleared']);
    expect(kinds(id, 'twa')).toEqual(['raised']);
    const clearedAt = t.events.find((e) => e.alert.rule === 'forecast-twa' && e.kind === 'cleared')!.ts;
    expect(t.events.find((e) => e.alert.rule === 'twa' && e.kind === 'raised')!.ts).toBe(clearedAt);
    expect(t.engine.activeAlerts().filter((a) => a.sensorId === id && a.rule.includes('twa')).map((a) => a.rule)).toEqual(['twa']);
  });

  it('forecast-mac clears when the mac alert is raised, and stays away while it is active (H2S, MAC 10)', () => {
    const id = 'chem-dawu.h2s-1';
    // Rising 0.9 mg/m3 a minute from 1: the trend reaches the MAC within its horizon (blue) before
    // the reading reaches ½ MAC (5, yellow mac) after 27 readings.
    feed(id, T0, 40, 10_000, (i) => 1 + i * 0.15);
    expect(kinds(id, 'forecast-mac')).toEqual(['raised', 'cleared']);
    expect(kinds(id, 'mac')).toEqual(['raised']);
    // Falls back to 1 and stays: the mac alert clears after the hold, and no forecast was raised beside it meanwhile.
    feed(id, t.clock + 10_000, 40, 10_000, () => 1);
    expect(kinds(id, 'mac')).toEqual(['raised', 'cleared']);
    expect(kinds(id, 'forecast-mac')).toEqual(['raised', 'cleared']);
  });

  it('forecast-stel is not kept beside an active stel alert (toluene rising past PC-STEL 100)', () => {
    const id = 'chem-dawu.toluene-1';
    feed(id, T0, 600, 10_000, (i) => 20 + i * 0.5);
    expect(kinds(id, 'stel')[0]).toBe('raised');
    expect(kinds(id, 'forecast-stel').slice(0, 2)).toEqual(['raised', 'cleared']);
  });
});
