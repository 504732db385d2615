import { reject, type ErrorCode, type Rejection } from '../../core/src/errors.ts';
import { describeValue, echo } from '../../core/src/describe.ts';

/** Why the decoder already knows a reading is bad (validate() turns it into a rejection). */
export interface Fault {
  code: ErrorCode;
  detail: string;
}

/** A reading as the gateway sent it, before any check. */
export interface RawReading {
  sensor: unknown;
  value: unknown;
  unit: unknown;
  ts: unknown;
  /** Set when decoding found the record bad (SenML types and labels); undefined otherwise. */
  fault: Fault | undefined;
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
    return { ok: false, rejection: reject('HW_ERR_PAYLOAD_NOT_JSON', echo(String((err as Error).message), 120)) };
  }
  if (Array.isArray(body)) return decodeSenml(body, limits.maxReadings, nowMs, mayHaveMustUnderstand(payload));
  if (!isObject(body) || !Array.isArray(body.readings)) {
    return { ok: false, rejection: reject('HW_ERR_PAYLOAD_SHAPE', 'expected {"ts": <ms>, "readings": [...]} or a SenML array') };
  }
  if (body.readings.length > limits.maxReadings) {
    return { ok: false, rejection: reject('HW_ERR_TOO_MANY_READINGS', `${body.readings.length} > ${limits.maxReadings}`) };
  }
  const batchTs = body.ts;
  const list: unknown[] = body.readings;
  const readings: RawReading[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    // A reading's own ts wins when present; a present but wrong one (null, a string) is
    // refused by validate(), never replaced by the batch's.
    readings[i] = isObject(r)
      ? { sensor: r.sensor, value: r.value, unit: r.unit, ts: r.ts !== undefined ? r.ts : batchTs, fault: undefined }
      : { sensor: undefined, value: undefined, unit: undefined, ts: undefined, fault: undefined };
  }
  return { ok: true, readings };
}

/** RFC 8428 §4.5.3: a time below 2^28 s is relative to now. */
const SENML_RELATIVE_LIMIT_S = 2 ** 28;
/** RFC 8428 §4.4 / §12.2: the SenML version this decoder implements (the default `bver`). */
const SENML_VERSION = 10;
/** Longest base name: a sensor id is at most 64 characters (registry `Id`), so is its prefix. */
export const MAX_NAME_CHARS = 64;
/** Longest unit spelling (the longest known is 6 characters, `kBq/m3`). */
export const MAX_UNIT_CHARS = 32;

/** Base labels (RFC 8428 §4.1); the regular ones are listed in hasRegular. */
const BASE_LABELS = ['bn', 'bt', 'bu', 'bv', 'bs', 'bver'] as const;
type BaseLabel = (typeof BASE_LABELS)[number];

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const UNDERSCORE = 95;

/** Whether a record has any regular field (else it only sets the base, §4.1). */
const hasRegular = (rec: Record<string, unknown>) =>
  rec.v !== undefined || rec.n !== undefined || rec.t !== undefined || rec.u !== undefined || rec.s !== undefined ||
  rec.vs !== undefined || rec.vb !== undefined || rec.vd !== undefined || rec.ut !== undefined;

/** The first label ending in `_` (§4.4: must-understand), if any. */
function mustUnderstandLabel(rec: Record<string, unknown>): string | undefined {
  for (const k in rec) if (k.charCodeAt(k.length - 1) === UNDERSCORE) return k;
  return undefined;
}

/**
 * Whether any JSON key of the payload may end in `_`: its text then holds `_"` or an
 * escaped underscore (`\u005f`). One native search per message spares a walk over every
 * record's keys in the usual case.
 */
const mayHaveMustUnderstand = (payload: Buffer) => payload.includes('_"') || payload.includes('\\u005');

/**
 * SenML JSON (RFC 8428). Base fields (§4.1) carry forward to later records: `bn` base
 * name (the sensor id is bn + n), `bt` base time and `t` time in seconds (float), `bu`
 * base unit, `bv` base value added to `v`. Only numeric values (`v`) are readings here;
 * `vs`, `vb` and `vd` records are rejected one by one as not-a-number, a record with a
 * sum and no value as sum-only.
 *
 * Types are checked, never defaulted: a base or regular field of the wrong type, a label
 * ending in `_` (§4.4: "Implementations MUST ignore fields they don't recognize unless that
 * field has a label name that ends with the '_' character, in which case an error MUST be
 * generated") or a `bver` above 10 rejects the record. A base field set by a rejected
 * record is not applied; the later records that would use it are rejected too, naming it,
 * until a valid record sets that base field again.
 */
function decodeSenml(records: unknown[], maxReadings: number, nowMs: number, scanKeys: boolean): Decoded {
  if (records.length > maxReadings) return { ok: false, rejection: reject('HW_ERR_TOO_MANY_READINGS', `${records.length} SenML records > ${maxReadings}`) };
  let bn = '';
  let bt = 0;
  let btSet = false;
  let bu: string | undefined;
  let bv = 0;
  /** Per base field, why it is unusable (set by a rejected record), if it is. */
  const poisoned: Partial<Record<BaseLabel, Fault>> = {};
  let anyPoisoned = false;
  const readings: RawReading[] = [];
  for (let i = 0; i < records.length; i++) {
    const rec = records[i];
    if (!isObject(rec)) {
      readings.push({ sensor: undefined, value: undefined, unit: undefined, ts: undefined, fault: undefined });
      continue;
    }
    const regular = hasRegular(rec);
    const fault = recordFault(rec, i, scanKeys ? mustUnderstandLabel(rec) : undefined);
    if (fault) {
      // A rejected record's base fields are not applied: records after it must not be
      // read against a base it meant to change.
      for (const l of BASE_LABELS) {
        if (rec[l] !== undefined) {
          poisoned[l] = { code: fault.code, detail: `base field ${l} of record ${i} was refused (${fault.detail})` };
          anyPoisoned = true;
        }
      }
      readings.push({ sensor: typeof rec.n === 'string' ? bn + rec.n : undefined, value: undefined, unit: undefined, ts: undefined, fault });
      continue;
    }
    if (rec.bver !== undefined) delete poisoned.bver;
    if (rec.bn !== undefined) { bn = rec.bn as string; delete poisoned.bn; }
    if (rec.bt !== undefined) { bt = rec.bt as number; btSet = true; delete poisoned.bt; }
    if (rec.bu !== undefined) { bu = rec.bu as string; delete poisoned.bu; }
    if (rec.bv !== undefined) { bv = rec.bv as number; delete poisoned.bv; }
    // A record with only base fields just sets the base (§4.1).
    if (!regular) continue;
    const name = typeof rec.n === 'string' ? bn + rec.n : bn;
    const t = rec.t as number | undefined;
    if (anyPoisoned) {
      // Every record uses bn, bt and bver; bu only without its own unit; bv only with a value.
      const p = poisoned.bver ?? poisoned.bn ?? poisoned.bt ?? (rec.u === undefined ? poisoned.bu : undefined) ?? (rec.v !== undefined ? poisoned.bv : undefined);
      if (p) {
        readings.push({ sensor: name || undefined, value: undefined, unit: undefined, ts: undefined, fault: p });
        continue;
      }
    }
    const tS = bt + (t ?? 0);
    const ts = t !== undefined || btSet
      ? Math.round((Math.abs(tS) < SENML_RELATIVE_LIMIT_S ? nowMs / 1000 + tS : tS) * 1000)
      : nowMs; // §4.5.3: no time at all means "roughly now"
    let value: unknown = rec.v;
    let vfault: Fault | undefined;
    if (typeof value === 'number') value = value + bv;
    else if (value === undefined) {
      const other = rec.vs !== undefined ? 'vs' : rec.vb !== undefined ? 'vb' : rec.vd !== undefined ? 'vd' : undefined;
      if (other) vfault = { code: 'HW_ERR_BAD_VALUE', detail: `record ${i} has a ${other === 'vs' ? 'string' : other === 'vb' ? 'boolean' : 'data'} value (${other}): only numeric values (v) are readings` };
      else if (rec.s !== undefined) vfault = { code: 'HW_ERR_SENML_SUM_ONLY', detail: `record ${i}` };
    }
    readings.push({ sensor: name || undefined, value, unit: rec.u !== undefined ? rec.u : bu, ts, fault: vfault });
  }
  return { ok: true, readings };
}

/** What is wrong with one record's fields by type or label, if anything (never throws). */
function recordFault(rec: Record<string, unknown>, i: number, mu: string | undefined): Fault | undefined {
  if (mu !== undefined) return { code: 'HW_ERR_SENML_UNSUPPORTED', detail: `record ${i} has the must-understand label ${JSON.stringify(echo(mu, 20))} (RFC 8428 §4.4)` };
  if (rec.bver !== undefined && (!isFiniteNumber(rec.bver) || rec.bver > SENML_VERSION)) {
    return { code: 'HW_ERR_SENML_UNSUPPORTED', detail: `record ${i}: bver ${describeValue(rec.bver)}, this server reads version ${SENML_VERSION}` };
  }
  if (rec.bn !== undefined) {
    if (typeof rec.bn !== 'string') return { code: 'HW_ERR_UNKNOWN_SENSOR', detail: `record ${i}: bn must be a string, not ${describeValue(rec.bn)}` };
    if (rec.bn.length > MAX_NAME_CHARS) return { code: 'HW_ERR_FIELD_TOO_LONG', detail: `record ${i}: bn has ${rec.bn.length} characters > ${MAX_NAME_CHARS}` };
  }
  if (rec.n !== undefined && typeof rec.n !== 'string') return { code: 'HW_ERR_UNKNOWN_SENSOR', detail: `record ${i}: n must be a string, not ${describeValue(rec.n)}` };
  if (rec.bt !== undefined && !isFiniteNumber(rec.bt)) return { code: 'HW_ERR_BAD_TS', detail: `record ${i}: bt must be a number of seconds, not ${describeValue(rec.bt)}` };
  if (rec.t !== undefined && !isFiniteNumber(rec.t)) return { code: 'HW_ERR_BAD_TS', detail: `record ${i}: t must be a number of seconds, not ${describeValue(rec.t)}` };
  if (rec.bu !== undefined) {
    if (typeof rec.bu !== 'string') return { code: 'HW_ERR_BAD_UNIT', detail: `record ${i}: bu must be a string, not ${describeValue(rec.bu)}` };
    if (rec.bu.length > MAX_UNIT_CHARS) return { code: 'HW_ERR_FIELD_TOO_LONG', detail: `record ${i}: bu has ${rec.bu.length} characters > ${MAX_UNIT_CHARS}` };
  }
  if (rec.u !== undefined && typeof rec.u !== 'string') return { code: 'HW_ERR_BAD_UNIT', detail: `record ${i}: u must be a string, not ${describeValue(rec.u)}` };
  if (rec.bv !== undefined && !isFiniteNumber(rec.bv)) return { code: 'HW_ERR_BAD_VALUE', detail: `record ${i}: bv must be a finite number, not ${describeValue(rec.bv)}` };
  return undefined;
}
