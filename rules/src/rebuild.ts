import { loadActiveAlerts } from '../../core/src/store/active-alerts.ts';
import type { EngineState } from './engine-state.ts';
import { evaluateReading } from './evaluate-reading.ts';
import { unstoredAlertEvents } from './unstored-alert-events.ts';

/** How far back state is rebuilt from the store at start by default, ms (an 8-h shift and its 8-h TWA with margin). */
const RESTORE_MS = 12 * 3600_000;

/**
 * At start: the owned enterprises' active alerts (from the store, and from the alert event
 * stream where it holds events the store does not yet), and their sensors' exposure windows
 * from stored readings, so a restart mid-shift changes no TWA and raises no alert twice.
 */
export async function rebuild(e: EngineState, t: number): Promise<{ alerts: number; readings: number; sensors: number; unstoredEvents: number }> {
  const from = t - (e.config.restoreMs ?? RESTORE_MS);
  // Every alert still active, however long ago it was raised or last changed (a 30-day
  // window of events used to forget older ones); another worker's are that worker's.
  const active = await loadActiveAlerts(e.deps.store);
  if (active.truncated) e.log.warn({ restored: active.events.length }, 'more active alerts than MAX_ACTIVE_ALERTS: only the oldest were restored');
  const owned = active.events.filter((ev) => e.ownership.owns(ev.alert.enterpriseId));
  // Then what the stream has and the store lacks (a predecessor killed between the two),
  // after them: the last event of each alert decides (the store is never ahead of the stream).
  const unstored = await unstoredAlertEvents(e, from, owned);
  e.alerts.restore([...owned, ...unstored]);
  for (const ev of unstored) e.events.push(ev);
  if (unstored.length) e.log.warn({ events: unstored.length }, 'alert events found in the stream but not in the store: restored and stored now');
  e.trackShiftsFrom = from;
  e.startedAt = t;
  let readings = 0;
  const sensors = e.ownership.sensors();
  for (const s of sensors) {
    // Readings after the sensor's evaluated watermark wait in the stream: they are evaluated when delivered.
    const until = e.deps.rebuildUntil?.(s.id);
    const to = until === undefined ? t : Math.min(t, until);
    if (to < from) continue;
    const rs = await e.deps.store.queryReadings({ sensorId: s.id, from, to });
    for (const r of rs) evaluateReading(e, s, r, false);
    readings += rs.length;
  }
  return { alerts: e.alerts.count(), readings, sensors: sensors.length, unstoredEvents: unstored.length };
}
