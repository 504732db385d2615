import type { Reading } from '../../core/src/types.ts';
import type { EngineState } from './engine-state.ts';
import { evaluateReading } from './evaluate-reading.ts';

/**
 * Accepted readings: each of an owned sensor is evaluated; a sensor the registry no longer
 * has is skipped (reloaded since ingest accepted it); one of another worker's enterprise is
 * ignored and counted (it was routed here by a different partition layout).
 */
export function handleReadings(e: EngineState, readings: readonly Reading[]): void {
  const sensors = e.deps.registry.current.sensors;
  let newest = -Infinity;
  let evaluated = 0;
  let foreign = 0;
  for (const r of readings) {
    const s = sensors.get(r.sensorId);
    if (!s) continue;
    if (!e.ownership.owns(s.enterpriseId)) {
      foreign++;
      continue;
    }
    evaluateReading(e, s, r, true);
    evaluated++;
    if (r.ts > newest) newest = r.ts;
  }
  e.ownership.foreign('readings', foreign);
  if (evaluated) {
    const h = e.health;
    h.lastEvaluationAt = e.now();
    h.evaluated += evaluated;
    h.lagMs = h.lastEvaluationAt - newest;
  }
}
