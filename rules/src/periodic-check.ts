import type { ExposurePoint } from '../../core/src/store/store.ts';
import { deadManReason } from './alert-reasons.ts';
import { closeShift } from './close-shift.ts';
import type { EngineState } from './engine-state.ts';
import type { ExposureView } from './exposure-view.ts';

/** Exposure older than this is not snapshotted: nothing of it is in the 8-h window any more, ms. */
const SNAPSHOT_STALE_MS = 8 * 3600_000;

/**
 * The engine's timer, over owned sensors only: the minute's exposure snapshot, shifts whose
 * end passed with no later reading, and the dead-man (a silent sensor raises `dead-man`;
 * reporting again clears it at once, the reading itself being the evidence).
 */
export function createPeriodicCheck(e: EngineState, view: ExposureView) {
  let lastSnapshotMinute = Math.floor(e.now() / 60_000);

  /** Each minute: every active sensor's metrics to the store (measurement `exposure`), for history and audit. */
  function snapshot(t: number) {
    const minute = Math.floor(t / 60_000);
    if (minute === lastSnapshotMinute) return;
    lastSnapshotMinute = minute;
    const at = minute * 60_000;
    const points: ExposurePoint[] = [];
    for (const [id, st] of e.sensors) {
      if (st.window.lastTs < at - SNAPSHOT_STALE_MS) continue;
      const x = view.exposure(id);
      const s = e.deps.registry.current.sensors.get(id);
      if (!x || !s) continue;
      const p: ExposurePoint = { sensorId: id, enterpriseId: s.enterpriseId, agent: s.agent, ts: at, twa8h: x.twa8h, stel15: x.stel15, coverage8h: x.coverage8h };
      if (x.lex8h !== undefined) p.lex8h = x.lex8h;
      if (x.shift) p.shiftTwa = x.shift.twa;
      points.push(p);
    }
    if (points.length) e.deps.store.writeExposure(points).catch((err: Error) => e.log.warn({ err: err.message, points: points.length }, 'exposure snapshot not stored'));
  }

  return function tick(): void {
    const t = e.now();
    snapshot(t);
    const registered = e.deps.registry.current.sensors;
    for (const [id, st] of e.sensors) {
      const s = registered.get(id);
      // Moved to an enterprise of another worker by a registry reload: no longer this worker's to keep.
      if (s && !e.ownership.owns(s.enterpriseId)) {
        e.sensors.delete(id);
        continue;
      }
      // Shifts whose end has passed with no later reading (a reading in flight may hold up to maxHoldMs).
      if (!st.shift || t < st.shift.endMs + st.window.maxHoldMs) continue;
      if (s) closeShift(e, s, st, true);
      else st.shift = undefined;
    }
    const { silent, alive } = e.deadMan.check(e.ownership.sensors(), t);
    const factor = e.config.deadManFactor ?? 5;
    for (const q of silent) {
      const s = registered.get(q.sensorId)!;
      e.alerts.fire({ ...e.base(s), rule: 'dead-man', level: 'yellow', reason: deadManReason(q, s, factor) }, t);
    }
    for (const id of alive) e.alerts.clearNow(id, 'dead-man', t);
    e.health.lastTickAt = t;
  };
}
