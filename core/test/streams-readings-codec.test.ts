import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeValue, MAX_ITEMS_PER_MESSAGE } from '../src/pipeline-wire.ts';
import { packReadings, unpackReadings } from '../src/streams/readings-codec.ts';
import type { Reading } from '../src/types.ts';

const reading = (over: Partial<Reading> = {}): Reading => ({ enterpriseId: 'e1', gatewayId: 'gw1', sensorId: 'e1.s1', agent: 'noise', ts: 1_764_000_000_000, value: 81.5, unit: 'dB(A)', valueStd: 81.5, ...over });
/** As a consumer decodes an entry: JSON, then the tuples back to objects, then the event check. */
const roundTrip = (rs: Reading[]) => {
  const wire = JSON.parse(JSON.stringify(packReadings(rs))) as { k: unknown; r: unknown };
  return decodeValue('readings.accepted', unpackReadings(wire.k, wire.r));
};

describe('accepted readings packed as tuples on the pipeline log', () => {
  it('gives back the same readings, clamped flag included, in fewer than half the bytes', () => {
    const rs = [reading(), reading({ sensorId: 'e1.s2', ts: 1_764_000_000_001, value: -0.01, unit: 'mg/m3', agent: 'gas.h2s', valueStd: 0, clamped: true })];
    expect(roundTrip(rs)).toEqual(rs);
    const many = Array.from({ length: 50 }, (_, i) => reading({ sensorId: `e1.s${i % 10}`, ts: 1_764_000_000_000 + i }));
    expect(JSON.stringify(packReadings(many)).length * 2).toBeLessThan(JSON.stringify(many).length);
  });

  it('round-trips any readings of one enterprise', () => {
    const text = fc.string({ minLength: 1, maxLength: 40 });
    const num = fc.double({ noNaN: true, noDefaultInfinity: true });
    fc.assert(fc.property(text, fc.array(fc.record({ gatewayId: text, sensorId: text, agent: text, ts: fc.integer({ min: 1 }), value: num, unit: fc.string({ maxLength: 10 }), valueStd: num, clamped: fc.option(fc.constant(true as const), { nil: undefined }) }), { maxLength: 20 }), (k, xs) => {
      const rs = xs.map((x) => {
        const r: Reading = { enterpriseId: k, gatewayId: x.gatewayId, sensorId: x.sensorId, agent: x.agent, ts: x.ts, value: x.value, unit: x.unit, valueStd: x.valueStd };
        if (x.clamped) r.clamped = true;
        return r;
      });
      // JSON writes -0 as 0: compare as JSON does.
      expect(JSON.stringify(roundTrip(rs))).toBe(JSON.stringify(rs));
    }));
  });

  it('refuses to pack readings of two enterprises into one event', () => {
    expect(() => packReadings([reading(), reading({ enterpriseId: 'e2' })])).toThrow(/e1 and e2/);
  });

  it('rejects entries that are not packed readings: wrong shapes, wrong types, too many', () => {
    const good = packReadings([reading()]).r[0]!;
    const bad: [unknown, unknown][] = [
      [42, [good]], // enterprise not a string
      ['e1', 'not a list'],
      ['e1', [good.slice(0, 6)]], // a field missing
      ['e1', [[...good, 0]]], // an eighth element other than the clamped flag
      ['e1', [[...good, 1, 1]]],
      ['e1', [{ ...good }]], // an object, not a tuple
      ['e1', Array.from({ length: MAX_ITEMS_PER_MESSAGE + 1 }, () => good)],
    ];
    for (const [k, r] of bad) expect(unpackReadings(k, r)).toBeUndefined();
    // Well shaped, wrong types: the event check refuses them.
    for (const t of [['gw1', 'e1.s1', 'noise', '1764000000000', 80, 'dB(A)', 80], ['gw1', '', 'noise', 1, 80, 'dB(A)', 80], ['gw1', 'e1.s1', 'noise', 1, null, 'dB(A)', 80]]) {
      expect(decodeValue('readings.accepted', unpackReadings('e1', [t]))).toBeUndefined();
    }
    expect(decodeValue('readings.accepted', unpackReadings('', [good]))).toBeUndefined();
  });
});
