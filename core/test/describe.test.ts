import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeTime, describeValue, echo } from '../src/describe.ts';
import { reject, REASON_MAX_CHARS, SENSOR_ECHO_MAX_CHARS } from '../src/errors.ts';

describe('descriptions of untrusted values', () => {
  it('never throw and stay short, whatever the value (deep, long, wide, beyond a Date)', () => {
    const deep = JSON.parse(`${'['.repeat(50_000)}${']'.repeat(50_000)}`) as unknown;
    const wide = Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`key${i}`, i]));
    for (const v of [deep, wide, 'x'.repeat(1_000_000), 9e15, Number.MAX_SAFE_INTEGER, -1e308, NaN, Infinity, null, undefined, 10n, Symbol('s'), () => 1, [], {}]) {
      expect(describeValue(v).length).toBeLessThanOrEqual(100);
    }
    expect(describeValue(deep)).toBe('an array of 1');
    expect(describeValue(wide)).toBe('an object {key0, key1, key2, …}');
    expect(describeValue('x'.repeat(1000))).toBe(`"${'x'.repeat(40)}"…(1000 chars)`);
    fc.assert(fc.property(fc.anything(), (v) => describeValue(v).length <= 100));
  });

  it('give a time as ISO 8601 only where a Date can hold it (ECMA-262: ±8.64e15 ms)', () => {
    expect(describeTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(describeTime(8.64e15)).toBe('+275760-09-13T00:00:00.000Z');
    expect(describeTime(9e15)).toBe('9000000000000000 ms');
    expect(describeTime(Number.NaN)).toBe('NaN ms');
    fc.assert(fc.property(fc.double(), (ms) => typeof describeTime(ms) === 'string'));
  });

  it('echo a prefix and say how long the rest was', () => {
    expect(echo('short')).toBe('short');
    expect(echo('y'.repeat(50), 10)).toBe('yyyyyyyyyy…(50 chars)');
  });

  it('cap every rejection reason and echoed sensor id', () => {
    const r = reject('HW_ERR_UNKNOWN_SENSOR', 'z'.repeat(30_000), { index: 3, sensor: 's'.repeat(30_000) });
    expect(r.message.length).toBe(REASON_MAX_CHARS);
    expect(r.sensor!.length).toBe(SENSOR_ECHO_MAX_CHARS);
    expect(r.index).toBe(3);
  });
});
