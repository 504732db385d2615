import { reject, type Rejection } from '../../core/src/errors.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { Registry, SensorEntry } from '../../core/src/registry.ts';
import type { Reading } from '../../core/src/types.ts';
import { toAgentUnit } from '../../core/src/units.ts';
import { describeTime, describeValue } from '../../core/src/describe.ts';
import { MAX_NAME_CHARS, MAX_UNIT_CHARS, type RawReading } from './decode.ts';

/** Readings down to this fraction of the range below the minimum count as zero drift. */
export const DRIFT_TOLERANCE = 0.02;

export interface ValidateContext {
  registry: Registry;
  catalogue: Catalogue;
  enterpriseId: string;
  gatewayId: string;
  nowMs: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
}

const ranges = new WeakMap<SensorEntry, { molarVolumeL: number; min: number; max: number }>();
/**
 * The physical range is the instrument's, in its own unit; it is compared in the agent
 * unit so a gateway may send ppb to a ppm sensor. Converted once per registry entry.
 */
function rangeOf(sensor: SensorEntry, molarVolumeL: number): { min: number; max: number } {
  let r = ranges.get(sensor);
  if (r?.molarVolumeL !== molarVolumeL) {
    const inAgentUnit = (v: number) => (toAgentUnit(v, sensor.unit, sensor.agentDef, molarVolumeL) as { value: number }).value;
    ranges.set(sensor, (r = { molarVolumeL, min: inAgentUnit(sensor.min), max: inAgentUnit(sensor.max) }));
  }
  return r;
}

/**
 * Per-reading checks. Returns the normalised reading or the reason it was refused;
 * never throws (hot path): a reason describes untrusted values with core/src/describe.ts,
 * which bounds what it echoes. Types are checked, never defaulted: only a unit that is
 * absent falls back to the sensor's registry unit. Duplicates are checked by the caller,
 * which holds the state.
 */
export function validateReading(raw: RawReading, index: number, ctx: ValidateContext): Reading | Rejection {
  const sensorId = typeof raw.sensor === 'string' ? raw.sensor : undefined;
  if (raw.fault) return reject(raw.fault.code, raw.fault.detail, { index, sensor: sensorId });
  if (!sensorId) return reject('HW_ERR_UNKNOWN_SENSOR', `"sensor" must be a string id, not ${describeValue(raw.sensor)}`, { index });
  if (sensorId.length > MAX_NAME_CHARS) return reject('HW_ERR_FIELD_TOO_LONG', `sensor id of ${sensorId.length} characters > ${MAX_NAME_CHARS}: ${describeValue(sensorId)}`, { index, sensor: sensorId });
  const sensor = ctx.registry.sensors.get(sensorId);
  if (!sensor) return reject('HW_ERR_UNKNOWN_SENSOR', sensorId, { index, sensor: sensorId });
  if (sensor.enterpriseId !== ctx.enterpriseId || sensor.gatewayId !== ctx.gatewayId) {
    return reject('HW_ERR_SENSOR_NOT_OWNED', `${sensorId} is not a sensor of ${ctx.enterpriseId}/${ctx.gatewayId}`, { index, sensor: sensorId });
  }
  if (typeof raw.value !== 'number' || !Number.isFinite(raw.value)) {
    return reject('HW_ERR_BAD_VALUE', `${describeValue(raw.value)} for ${sensorId}`, { index, sensor: sensorId });
  }
  const value = raw.value;
  if (typeof raw.ts !== 'number' || !Number.isSafeInteger(raw.ts) || raw.ts <= 0) {
    return reject('HW_ERR_BAD_TS', `${describeValue(raw.ts)} for ${sensorId}`, { index, sensor: sensorId });
  }
  const ts = raw.ts;
  if (ts > ctx.nowMs + ctx.maxFutureSkewMs) return reject('HW_ERR_TS_FUTURE', `${describeTime(ts)} is ${ts - ctx.nowMs} ms ahead`, { index, sensor: sensorId });
  if (ts < ctx.nowMs - ctx.maxAgeMs) return reject('HW_ERR_TS_TOO_OLD', `${describeTime(ts)} is older than ${ctx.maxAgeMs} ms`, { index, sensor: sensorId });
  let unit: string;
  if (raw.unit === undefined) unit = sensor.unit;
  else if (typeof raw.unit !== 'string') return reject('HW_ERR_BAD_UNIT', `"unit" must be a string, not ${describeValue(raw.unit)}, for ${sensorId}`, { index, sensor: sensorId });
  else if (raw.unit.length > MAX_UNIT_CHARS) return reject('HW_ERR_FIELD_TOO_LONG', `unit of ${raw.unit.length} characters > ${MAX_UNIT_CHARS}: ${describeValue(raw.unit)}`, { index, sensor: sensorId });
  else unit = raw.unit;
  const molarVolumeL = ctx.catalogue.profiles.get(sensor.profileId)?.molarVolumeL ?? 24.04;
  let conv = toAgentUnit(value, unit, sensor.agentDef, molarVolumeL);
  if (!conv.ok) return reject('HW_ERR_BAD_UNIT', conv.reason, { index, sensor: sensorId });
  const { min, max } = rangeOf(sensor, molarVolumeL);
  let clamped = false;
  if (conv.value < min && conv.value >= min - DRIFT_TOLERANCE * (max - min)) {
    // Zero drift: a reading a little below the instrument's zero is clamped, not refused,
    // and flagged so the rules engine can report a drifting sensor.
    conv = { ok: true, value: min };
    clamped = true;
  } else if (conv.value < min || conv.value > max) {
    return reject('HW_ERR_OUT_OF_RANGE', `${value} ${unit} outside [${sensor.min}, ${sensor.max}] ${sensor.unit} for ${sensorId}`, { index, sensor: sensorId });
  }
  const reading: Reading = { enterpriseId: sensor.enterpriseId, gatewayId: sensor.gatewayId, sensorId, agent: sensor.agent, ts, value, unit, valueStd: conv.value };
  if (clamped) reading.clamped = true;
  return reading;
}

export const isRejection = (r: Reading | Rejection): r is Rejection => 'code' in r;
