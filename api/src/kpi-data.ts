import type { SensorEntry } from '../../core/src/registry.ts';
import { HOURLY_COUNT_MAX_SENSORS, type HourlyCount, type Store } from '../../core/src/store/store.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { completeness, type Completeness } from '../../rules/src/data-completeness.ts';
import { EXCEEDANCE_RULES, exceedanceIntervals, type Interval } from '../../rules/src/exceedance-intervals.ts';

/** Alert events are read from this long before the period, so an alert open across `from` is seen. */
export const KPI_EVENT_LOOKBACK_MS = 30 * 24 * 3600_000;
/** Alerts opened before the lookback whose whole history is fetched one by one, at most. */
const MAX_HISTORIES = 1000;

/**
 * What the pass rate needs from the store for a set of sensors and [from, to): each
 * sensor's exceedance intervals (from alert events since from − 30 days, and the whole
 * history of any alert opened earlier that has events since then) and its data completeness
 * (readings per hour, HOURLY_COUNT_MAX_SENSORS sensors a query).
 */
export async function loadKpiInputs(store: Store, sensors: readonly Pick<SensorEntry, 'id' | 'intervalS'>[], from: number, to: number): Promise<{
  exceedances: Map<string, Interval[]>;
  completeness: Map<string, Completeness>;
}> {
  const ids = new Set(sensors.map((s) => s.id));
  const events = (await store.queryAlertEvents({ since: Math.max(0, from - KPI_EVENT_LOOKBACK_MS) })).filter((e) => ids.has(e.alert.sensorId) && EXCEEDANCE_RULES.has(e.alert.rule));
  const seenRaised = new Set(events.filter((e) => e.kind === 'raised').map((e) => e.alertId));
  const partial = [...new Set(events.filter((e) => !seenRaised.has(e.alertId)).map((e) => e.alertId))].slice(0, MAX_HISTORIES);
  const byAlert = new Map<string, AlertEvent[]>();
  for (const e of events) {
    const l = byAlert.get(e.alertId);
    if (l) l.push(e);
    else byAlert.set(e.alertId, [e]);
  }
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
  return { exceedances, completeness: comp };
}
