import { excursionSource, type ExcursionBound } from '../../core/src/excursion-rule.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import type { AlertLevel, AlertReason } from '../../core/src/types.ts';
import type { Silence } from './dead-man.ts';
import { EXCURSION_FACTOR, EXCURSION_GAP_MS, EXCURSION_MAX_MS, EXCURSIONS_MAX, type ExcursionViolation } from './peak-excursions.ts';
import type { FaultKind } from './sensor-faults.ts';

/** Why an alert fired, for the rules whose reason is not built by evaluate.ts or early-warning.ts. */

/** GBZ 2.1-2019 peak excursions of a PC-TWA-only agent: above 3 × PC-TWA at most 15 min each, 4 a shift, 1 h apart. */
export function excursionReason(v: ExcursionViolation, bound: ExcursionBound, unit: string): AlertReason {
  const pcTwa = bound.pcTwa.value;
  const source = excursionSource(bound);
  const above = `above ${EXCURSION_FACTOR} × PC-TWA (${EXCURSION_FACTOR * pcTwa} ${unit})`;
  switch (v.kind) {
    case 'duration': return { metric: `an excursion ${above} lasting, min`, value: Math.round(v.valueMin * 10) / 10, limit: EXCURSION_MAX_MS / 60_000, unit: 'min', source };
    case 'count': return { metric: `excursions ${above} in the shift`, value: v.count, limit: EXCURSIONS_MAX, unit: 'excursions', source };
    case 'gap': return { metric: `time between excursions ${above} (at least 1 h)`, value: Math.round(v.gapMin * 10) / 10, limit: EXCURSION_GAP_MS / 60_000, unit: 'min', source };
  }
}

/** Sensor faults are yellow: the data are in doubt, not the workplace. */
export const FAULT_LEVEL: AlertLevel = 'yellow';

export const faultReason = (f: FaultKind, s: SensorEntry, value: number): AlertReason => ({
  metric: `sensor fault: ${f}`, value, limit: f === 'flatline' ? 30 : 10, unit: s.agentDef.unit,
  source: f === 'flatline' ? '30 identical readings over ≥ 10 min' : `${f} readings, 10 within 10 min`,
});

export const OUT_OF_RANGE_REASON: AlertReason = { metric: 'sensor fault: out-of-range', value: 10, limit: 10, unit: 'readings', source: 'readings outside the instrument range, 10 within 10 min' };

export const deadManReason = (q: Silence, s: SensorEntry, factor: number): AlertReason => ({
  metric: q.neverReported ? 'never reported since start' : 'no reading for', value: Math.round(q.silentForMs / 1000), limit: Math.round(q.timeoutMs / 1000), unit: 's', source: `registry interval ${s.intervalS} s × ${factor}`,
});

export const GATEWAY_OFFLINE_REASON: AlertReason = { metric: 'gateway offline (last will or disconnect)', value: 0, limit: 1, unit: 'connection', source: 'MQTT presence: retained status with last will (DESIGN.md)' };
