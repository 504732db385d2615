import type { Alert, AlertEvent } from '../../core/src/types.ts';

/**
 * The API's view of alerts, built from alert events alone (stored history at start, then
 * live events), so the API works the same in one process or as its own service.
 * Keeps a bounded ring of recent events for WebSocket replay after a reconnect.
 */
export function createAlertView(ringSize = 10_000) {
  const alerts = new Map<string, Alert>();
  const ring: { eventId: number; event: AlertEvent }[] = [];
  let lastEventId = 0;
  return {
    apply(e: AlertEvent): number {
      alerts.set(e.alertId, e.alert);
      const eventId = ++lastEventId;
      ring.push({ eventId, event: e });
      if (ring.length > ringSize) ring.shift();
      return eventId;
    },
    load(events: readonly AlertEvent[]) {
      for (const e of events) alerts.set(e.alertId, e.alert);
    },
    all: () => [...alerts.values()],
    get: (id: string) => alerts.get(id),
    lastEventId: () => lastEventId,
    /** Events after `since`; undefined when the ring no longer reaches back that far. */
    since(since: number) {
      if (since >= lastEventId) return [];
      const first = ring[0]?.eventId ?? lastEventId + 1;
      if (since + 1 < first) return undefined;
      return ring.filter((r) => r.eventId > since);
    },
  };
}

export type AlertView = ReturnType<typeof createAlertView>;
