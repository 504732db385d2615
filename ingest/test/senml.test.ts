import { describe, expect, it } from 'vitest';
import { decodePayload } from '../src/decode.ts';

const limits = { maxBytes: 1 << 16, maxReadings: 100 };
const NOW = 1_795_000_000_000;

describe('SenML (RFC 8428) decoding', () => {
  it('resolves base name, base time and base unit (RFC 8428 §5.1.2 multiple-datapoint example shape)', () => {
    const payload = [
      { bn: 'cement-liguo.', bt: 1_795_000_000, bu: 'mg/m3', n: 'dust-resp-1', v: 0.42 },
      { n: 'dust-resp-1', t: 10, v: 0.5 },
      { n: 'noise-1', u: 'dB(A)', t: 10.5, v: 83 },
    ];
    const d = decodePayload(Buffer.from(JSON.stringify(payload)), limits, NOW);
    expect(d).toEqual({ ok: true, readings: [
      { sensor: 'cement-liguo.dust-resp-1', value: 0.42, unit: 'mg/m3', ts: 1_795_000_000_000 },
      { sensor: 'cement-liguo.dust-resp-1', value: 0.5, unit: 'mg/m3', ts: 1_795_000_010_000 },
      { sensor: 'cement-liguo.noise-1', value: 83, unit: 'dB(A)', ts: 1_795_000_010_500 },
    ] });
  });

  it('reads small times as relative to now (§4.5.3) and adds the base value (§4.1)', () => {
    const d = decodePayload(Buffer.from(JSON.stringify([{ bn: 's', bv: 80, n: '1', t: -5, v: 2.5 }])), limits, NOW);
    expect(d).toEqual({ ok: true, readings: [{ sensor: 's1', value: 82.5, unit: undefined, ts: NOW - 5000 }] });
  });

  it('treats a record without time as now, and a base-only record as setting the base', () => {
    const d = decodePayload(Buffer.from(JSON.stringify([{ bn: 'cement-liguo.' }, { n: 'so2-1', v: 3 }])), limits, NOW);
    expect(d).toEqual({ ok: true, readings: [{ sensor: 'cement-liguo.so2-1', value: 3, unit: undefined, ts: NOW }] });
  });

  it('refuses more records than the limit', () => {
    const d = decodePayload(Buffer.from(JSON.stringify(Array.from({ length: 101 }, () => ({ n: 'x', v: 1 })))), limits, NOW);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.rejection.code).toBe('HW_ERR_TOO_MANY_READINGS');
  });
});
