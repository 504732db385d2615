import type { AlertEvent } from '../types.ts';
import type { Store } from './store.ts';
import { MAX_ACTIVE_ALERTS } from './time-range.ts';

/**
 * The latest event of every alert still active (not cleared), however old it is: what the
 * rules engine restores, the API's alert view shows and the KPI counts as an exceedance
 * still running. At most MAX_ACTIVE_ALERTS; `truncated` says there were more (callers
 * report it: a log warning, a KPI field), so none is dropped silently.
 */
export async function loadActiveAlerts(store: Store): Promise<{ events: AlertEvent[]; truncated: boolean }> {
  const events = await store.queryActiveAlerts({ limit: MAX_ACTIVE_ALERTS + 1 });
  const truncated = events.length > MAX_ACTIVE_ALERTS;
  if (truncated) events.length = MAX_ACTIVE_ALERTS;
  return { events, truncated };
}

/** Stored events of a recent window plus the active alerts' latest events, in time order, each event once (for "last event per alert wins" consumers). */
export function withActive(recent: readonly AlertEvent[], active: readonly AlertEvent[]): AlertEvent[] {
  const key = (e: AlertEvent) => `${e.alertId}\u0000${e.kind}\u0000${e.ts}`;
  const seen = new Set(recent.map(key));
  // A stable sort: events of one time keep the order the store returned them in.
  return [...recent, ...active.filter((e) => !seen.has(key(e)))].sort((a, b) => a.ts - b.ts);
}
