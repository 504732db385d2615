/**
 * Sensor fault detection from the reading stream (not exposure rules):
 * - flatline: the same value for `flatlineCount` readings spanning at least
 *   `flatlineMinMs` (a stuck or disconnected transducer reads a constant);
 * - negative drift: readings below the instrument's zero that ingest clamped to zero;
 *   `driftCount` of them within `driftWindowMs` flag the sensor for recalibration;
 * - out of range: readings ingest rejected as outside the physical range, counted the
 *   same way.
 */
export interface FaultOptions {
  flatlineCount: number;
  flatlineMinMs: number;
  driftCount: number;
  driftWindowMs: number;
}

export type FaultKind = 'flatline' | 'negative-drift' | 'out-of-range';

interface SensorFaultState {
  value: number;
  since: number;
  count: number;
  clamped: number[];
  outOfRange: number[];
}

export function createFaultDetector(opts: FaultOptions) {
  const state = new Map<string, SensorFaultState>();
  const get = (id: string, value: number, ts: number) => {
    let s = state.get(id);
    if (!s) state.set(id, (s = { value, since: ts, count: 0, clamped: [], outOfRange: [] }));
    return s;
  };
  const recent = (list: number[], ts: number) => {
    while (list.length && list[0]! < ts - opts.driftWindowMs) list.shift();
    return list.length;
  };
  return {
    /** A reading; returns the faults active for the sensor after it, and those that ended. */
    reading(sensorId: string, ts: number, value: number, clamped: boolean): { active: FaultKind[]; ended: FaultKind[] } {
      const s = get(sensorId, value, ts);
      if (value === s.value) s.count++;
      else {
        s.value = value;
        s.since = ts;
        s.count = 1;
      }
      if (clamped) s.clamped.push(ts);
      const active: FaultKind[] = [];
      const ended: FaultKind[] = [];
      (s.count >= opts.flatlineCount && ts - s.since >= opts.flatlineMinMs ? active : ended).push('flatline');
      (recent(s.clamped, ts) >= opts.driftCount ? active : ended).push('negative-drift');
      (recent(s.outOfRange, ts) >= opts.driftCount ? active : ended).push('out-of-range');
      return { active, ended };
    },
    /** Ingest rejected a reading of this sensor as outside its physical range. */
    outOfRange(sensorId: string, ts: number): boolean {
      const s = get(sensorId, Number.NaN, ts);
      s.outOfRange.push(ts);
      return recent(s.outOfRange, ts) >= opts.driftCount;
    },
  };
}
