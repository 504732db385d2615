import { reject, type Rejection } from '../../core/src/errors.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { Registry } from '../../core/src/registry.ts';
import type { Reading } from '../../core/src/types.ts';
import { toAgentUnit } from '../../core/src/units.ts';
import type { RawReading } from './decode.ts';

export interface ValidateContext {
  registry: Registry;
  catalogue: Catalogue;
  enterpriseId: string;
  gatewayId: string;
  nowMs: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
}

/**
 * Per-reading checks. Returns the normalised reading or the reason it was refused;
 * never throws (hot path). Duplicates are checked by the caller, which holds the state.
 */
export function validateReading(raw: RawReading, index: number, ctx: ValidateContext): Reading | Rejection {
  const sensorId = typeof raw.sensor === 'string' ? raw.sensor : undefined;
  const at = { index, sensor: sensorId };
  if (!sensorId) return reject('HW_ERR_UNKNOWN_SENSOR', '"sensor" must be a string id', at);
  const sensor = ctx.registry.sensors.get(sensorId);
  if (!sensor) return reject('HW_ERR_UNKNOWN_SENSOR', sensorId, at);
  if (sensor.enterpriseId !== ctx.enterpriseId || sensor.gatewayId !== ctx.gatewayId) {
    return reject('HW_ERR_SENSOR_NOT_OWNED', `${sensorId} is not a sensor of ${ctx.enterpriseId}/${ctx.gatewayId}`, at);
  }
  if (typeof raw.value !== 'number' || !Number.isFinite(raw.value)) {
    return reject('HW_ERR_BAD_VALUE', `${JSON.stringify(raw.value) ?? 'undefined'} for ${sensorId}`, at);
  }
  const value = raw.value;
  if (typeof raw.ts !== 'number' || !Number.isSafeInteger(raw.ts) || raw.ts <= 0) {
    return reject('HW_ERR_BAD_TS', `${JSON.stringify(raw.ts) ?? 'undefined'} for ${sensorId}`, at);
  }
  const ts = raw.ts;
  if (ts > ctx.nowMs + ctx.maxFutureSkewMs) return reject('HW_ERR_TS_FUTURE', `${new Date(ts).toISOString()} is ${ts - ctx.nowMs} ms ahead`, at);
  if (ts < ctx.nowMs - ctx.maxAgeMs) return reject('HW_ERR_TS_TOO_OLD', `${new Date(ts).toISOString()} is older than ${ctx.maxAgeMs} ms`, at);
  const unit = typeof raw.unit === 'string' ? raw.unit : sensor.unit;
  const molarVolumeL = ctx.catalogue.profiles.get(sensor.profileId)?.molarVolumeL ?? 24.04;
  const conv = toAgentUnit(value, unit, sensor.agentDef, molarVolumeL);
  if (!conv.ok) return reject('HW_ERR_BAD_UNIT', conv.reason, at);
  // The physical range is the instrument's, in its own unit; compare in the agent unit so
  // a gateway may send ppb to a ppm sensor.
  const lo = unit === sensor.unit ? value : conv.value;
  const min = unit === sensor.unit ? sensor.min : (toAgentUnit(sensor.min, sensor.unit, sensor.agentDef, molarVolumeL) as { value: number }).value;
  const max = unit === sensor.unit ? sensor.max : (toAgentUnit(sensor.max, sensor.unit, sensor.agentDef, molarVolumeL) as { value: number }).value;
  if (lo < min || lo > max) {
    return reject('HW_ERR_OUT_OF_RANGE', `${value} ${unit} outside [${sensor.min}, ${sensor.max}] ${sensor.unit} for ${sensorId}`, at);
  }
  return { enterpriseId: sensor.enterpriseId, gatewayId: sensor.gatewayId, sensorId, agent: sensor.agent, ts, value, unit, valueStd: conv.value };
}

export const isRejection = (r: Reading | Rejection): r is Rejection => 'code' in r;
