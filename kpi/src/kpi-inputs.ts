import type { SensorEntry } from '../../core/src/registry.ts';
import { HOURLY_COUNT_MAX_SENSORS, type HourlyCount, type Store } from '../../core/src/store/store.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { loadActiveAlerts } from '../../core/src/store/active-alerts.ts';
import { completeness, type Completeness } from './data-completeness.ts';
import { EXCEEDANCE_RULES, exceedanceIntervals, type Interval } from './exceedance-intervals.ts';

/** Alert events are read from this long before the period, so an alert open across `from` is seen. */
export const KPI_EVENT_LOOKBACK_MS = 30 * 24 * 3600_000;
/** Alerts opened before the lookback whose whole history is fetched one by one, at most (more is reported in `alertHistoriesNotRead`). */
export const MAX_HISTORIES = 1000;

/**
 * What the pass rate needs from the store for a set of sensors and [from, to): each
 * sensor's exceedance intervals and its data completeness (readings per hour,
 * HOURLY_COUNT_MAX_SENSORS sensors a query, from the store's hourly counts).
 *
 * Exceedances come from the alert events since from − 30 days, the whole history of any
 * alert among them opened earlier (at most MAX_HISTORIES; `alertHistoriesNotRead` counts
 * the rest), and every alert still active however old (its latest event: an alert with
 * no event since before the lookback is in the same state now as then, so that event
 * alone says whether it exceeds throughout the period). `activeAlertsTruncated` says the
 * active alerts were more than MAX_ACTIVE_ALERTS.
 */
export async function loadKpiInputs(store: Store, sensors: readonly Pick<SensorEntry, 'id' | 'intervalS'>[], from: number, to: number): Promise<{
  exceedances: Map<string, Interval[]>;
  completeness: Map<string, Completeness>;
  alertHistoriesNotRead: number;
  activeAlertsTruncated: boolean;
}> {
  const ids = new Set(sensors.map((s) => s.id));
  const counted = (e: AlertEvent) => ids.has(e.alert.sensorId) && EXCEEDANCE_RULES.has(e.alert.rule);
  const active = await loadActiveAlerts(store);
  const events = (await store.queryAlertEvents({ since: Math.max(0, from - KPI_EVENT_LOOKBACK_MS) })).filter(counted);
  const seenRaised = new Set(events.filter((e) => e.kind === 'raised').map((e) => e.alertId));
  const needHistory = [...new Set(events.filter((e) => !seenRaised.has(e.alertId)).map((e) => e.alertId))];
  const partial = needHistory.slice(0, MAX_HISTORIES);
  const byAlert = new Map<string, AlertEvent[]>();
  for (const e of events) {
    const l = byAlert.get(e.alertId);
    if (l) l.push(e);
    else byAlert.set(e.alertId, [e]);
  }
  // Active alerts with no event since the lookback began: their latest event, older than it.
  for (const e of active.events) if (counted(e) && !byAlert.has(e.alertId)) byAlert.set(e.alertId, [e]);
  for (const id of partial) {
    const whole = await store.queryAlertEvents({ alertId: id });
    if (whole.length) byAlert.set(id, whole);
  }
  const exceedances = exceedanceIntervals([...byAlert.values()].flat());

  const counts = new Map<string, HourlyCount[]>();
  const list = [...sensors];
  for (let i = 0; i < list.length; i += HOURLY_COUNT_MAX_SENSORS) {
    for (const c of await store.countReadingsPerHour({ sensorIds: list.slice(i, i + HOURLY_COUNT_MAX_SENSORS).map((s) => s.id), from, to })) {
      const l = counts.get(c.sensorId);
      if (l) l.push(c);
      else counts.set(c.sensorId, [c]);
    }
  }
  const comp = new Map<string, Completeness>();
  for (const s of list) comp.set(s.id, completeness(counts.get(s.id) ?? [], s.intervalS, from, to));
  return { exceedances, completeness: comp, alertHistoriesNotRead: needHistory.length - partial.length, activeAlertsTruncated: active.truncated };
}
