import { limitsInForce } from '../../core/src/limits-in-force.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import type { EngineState, SensorState } from './engine-state.ts';
import { assessShift } from './shift-record.ts';

/**
 * A shift ended: store its C_TWA (noise: dose and 8-h level) as an exposure record, and
 * raise `shift-twa` (orange) when it exceeds the limit; a compliant shift clears it. Called
 * before the first reading past the end enters the window (which would overwrite the
 * ring's oldest minute), or by the periodic check once the end has passed by the hold time.
 */
export function closeShift(e: EngineState, s: SensorEntry, st: SensorState, live: boolean): void {
  const shift = st.shift!;
  st.shift = undefined;
  const { record, reason } = assessShift({ sensor: s, window: st.window, shift, limits: limitsInForce(e.deps.catalogue, s.profileId, s.agentDef), noiseRule: e.noiseRuleOf(s) });
  e.shiftRecords.push(record);
  // A shift that ended before this engine started was alerted on by the run before (its record is rewritten, identically).
  if (!live || !reason || shift.endMs <= e.startedAt) return;
  if (record.exceeded) e.apply(s, 'shift-twa', 'orange', reason);
  else if (e.alerts.isActive(s.id, 'shift-twa')) e.alerts.clearNow(s.id, 'shift-twa', e.now());
}
