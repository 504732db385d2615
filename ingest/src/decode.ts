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
 * A JSON array is read as SenML (RFC 8428).
 */
export function decodePayload(payload: Buffer, limits: { maxBytes: number; maxReadings: number }, nowMs = Date.now()): Decoded {
  if (payload.length > limits.maxBytes) return { ok: false, rejection: reject('HW_ERR_PAYLOAD_TOO_LARGE', `${payload.length} bytes > ${limits.maxBytes}`) };
  let body: unknown;
  try {
    body = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, rejection: reject('HW_ERR_PAYLOAD_NOT_JSON', (err as Error).message) };
  }
  if (Array.isArray(body)) return decodeSenml(body, limits.maxReadings, nowMs);
  if (!isObject(body) || !Array.isArray(body.readings)) {
    return { ok: false, rejection: reject('HW_ERR_PAYLOAD_SHAPE', 'expected {"ts": <ms>, "readings": [...]} or a SenML array') };
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

/** RFC 8428 §4.5.3: a time below 2^28 s is relative to now. */
const SENML_RELATIVE_LIMIT_S = 2 ** 28;

/**
 * SenML JSON (RFC 8428). Base fields (§4.1) carry forward to later records: `bn` base
 * name (the sensor id is bn + n), `bt` base time and `t` time in seconds (float), `bu`
 * base unit, `bv` base value added to `v`. Only numeric values (`v`) are readings here;
 * `vs`, `vb` and `vd` records are rejected one by one as not-a-number.
 */
function decodeSenml(records: unknown[], maxReadings: number, nowMs: number): Decoded {
  if (records.length > maxReadings) return { ok: false, rejection: reject('HW_ERR_TOO_MANY_READINGS', `${records.length} SenML records > ${maxReadings}`) };
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const readings: RawReading[] = [];
  for (const rec of records) {
    if (!isObject(rec)) {
      readings.push({ sensor: undefined, value: undefined, unit: undefined, ts: undefined });
      continue;
    }
    if (typeof rec.bn === 'string') bn = rec.bn;
    if (typeof rec.bt === 'number') bt = rec.bt;
    if (typeof rec.bu === 'string') bu = rec.bu;
    if (typeof rec.bv === 'number') bv = rec.bv;
    // A record with only base fields (no n, no value) just sets the base (§4.1).
    if (rec.n === undefined && rec.v === undefined && rec.vs === undefined && rec.vb === undefined && rec.vd === undefined) continue;
    const name = `${bn}${typeof rec.n === 'string' ? rec.n : ''}`;
    const tS = bt + (typeof rec.t === 'number' ? rec.t : 0);
    const ts = typeof rec.t === 'number' || typeof rec.bt === 'number' || bt !== 0
      ? Math.round((Math.abs(tS) < SENML_RELATIVE_LIMIT_S ? nowMs / 1000 + tS : tS) * 1000)
      : nowMs; // §4.5.3: no time at all means "roughly now"
    const value = typeof rec.v === 'number' ? rec.v + bv : rec.v ?? rec.vs ?? rec.vb ?? rec.vd;
    readings.push({ sensor: name || undefined, value, unit: typeof rec.u === 'string' ? rec.u : bu, ts });
  }
  return { ok: true, readings };
}
