import type { Rejection } from '../../core/src/errors.ts';
import { FAULT_LEVEL, OUT_OF_RANGE_REASON } from './alert-reasons.ts';
import type { EngineState } from './engine-state.ts';

/**
 * Readings ingest refused: out-of-range ones of an owned sensor count towards its
 * `fault-out-of-range`. A rejection names a sensor, not an enterprise: one of a registry
 * sensor of another worker's enterprise is ignored and counted; one with no registry sensor
 * belongs to no enterprise and is not this engine's business.
 */
export function handleRejections(e: EngineState, rejections: readonly Rejection[], ts: number): void {
  const sensors = e.deps.registry.current.sensors;
  let foreign = 0;
  for (const rj of rejections) {
    const s = rj.sensor === undefined ? undefined : sensors.get(rj.sensor);
    if (!s) continue;
    if (!e.ownership.owns(s.enterpriseId)) {
      foreign++;
      continue;
    }
    if (rj.code === 'HW_ERR_OUT_OF_RANGE' && e.faults.outOfRange(s.id, ts)) e.apply(s, 'fault-out-of-range', FAULT_LEVEL, OUT_OF_RANGE_REASON);
  }
  e.ownership.foreign('rejections', foreign);
}
