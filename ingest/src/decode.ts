import { reject, type Rejection } from '../../core/src/errors.ts';

/** A reading as the gateway sent it, before any check. */
export interface RawReading {
  sensor: unknown;
  value: unknown;
  unit: unknown;
  ts: unknown;
}

export type Decoded = { ok: true; readings: RawReading[] } | { ok: false; rejection: Rejection };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Payload-level decoding (DESIGN.md "MQTT interface"): the JSON batch
 * `{"ts": <ms>, "readings": [{"sensor", "value", "unit", "ts"?}]}`. Per-reading problems
 * are left to validate(): only a payload that cannot be read at all is rejected here.
 */
export function decodePayload(payload: Buffer, limits: { maxBytes: number; maxReadings: number }): Decoded {
  if (payload.length > limits.maxBytes) return { ok: false, rejection: reject('HW_ERR_PAYLOAD_TOO_LARGE', `${payload.length} bytes > ${limits.maxBytes}`) };
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, rejection: reject('HW_ERR_PAYLOAD_NOT_JSON', (err as Error).message) };
  }
  if (!isObject(body) || !Array.isArray(body.readings)) {
    return { ok: false, rejection: reject('HW_ERR_PAYLOAD_SHAPE', 'expected {"ts": <ms>, "readings": [...]}') };
  }
  if (body.readings.length > limits.maxReadings) {
    return { ok: false, rejection: reject('HW_ERR_TOO_MANY_READINGS', `${body.readings.length} > ${limits.maxReadings}`) };
  }
  const batchTs = body.ts;
  const readings: RawReading[] = body.readings.map((r: unknown) =>
    isObject(r) ? { sensor: r.sensor, value: r.value, unit: r.unit, ts: r.ts ?? batchTs } : { sensor: undefined, value: undefined, unit: undefined, ts: undefined },
  );
  return { ok: true, readings };
}
