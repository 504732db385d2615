/**
 * Accepted readings as the pipeline log carries them: one enterprise per event (the
 * transport groups them so), each reading a tuple
 * `[gatewayId, sensorId, agent, ts, value, unit, valueStd]` (and `1` when clamped) rather
 * than an object that repeats eight key names and the enterprise. Every rules worker and
 * API replica reads each of these bytes (docs/streams.md "Measured cost").
 *
 * Decoding only rebuilds the objects; the caller checks them as any event from another
 * process (core/src/pipeline-wire.ts decodeValue).
 */
import { MAX_ITEMS_PER_MESSAGE } from '../pipeline-wire.ts';
import type { Reading } from '../types.ts';

export interface PackedReadings {
  /** The enterprise of every reading. */
  k: string;
  r: (string | number)[][];
}

/** Throws when the readings are not all of one enterprise: the transport groups them by enterprise before this. */
export function packReadings(readings: readonly Reading[]): PackedReadings {
  const k = readings[0]?.enterpriseId ?? '';
  const r = readings.map((x) => {
    if (x.enterpriseId !== k) throw new Error(`readings of ${k} and ${x.enterpriseId} in one event`);
    const t: (string | number)[] = [x.gatewayId, x.sensorId, x.agent, x.ts, x.value, x.unit, x.valueStd];
    if (x.clamped) t.push(1);
    return t;
  });
  return { k, r };
}

/** The readings back, unchecked but for their shape; undefined when `r` is not a list of 7- or 8-tuples of at most MAX_ITEMS_PER_MESSAGE. */
export function unpackReadings(k: unknown, r: unknown): unknown[] | undefined {
  if (typeof k !== 'string' || !Array.isArray(r) || r.length > MAX_ITEMS_PER_MESSAGE) return undefined;
  const out: unknown[] = new Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const t: unknown = r[i];
    if (!Array.isArray(t) || (t.length !== 7 && !(t.length === 8 && t[7] === 1))) return undefined;
    const reading: Record<string, unknown> = { enterpriseId: k, gatewayId: t[0], sensorId: t[1], agent: t[2], ts: t[3], value: t[4], unit: t[5], valueStd: t[6] };
    if (t.length === 8) reading.clamped = true;
    out[i] = reading;
  }
  return out;
}
