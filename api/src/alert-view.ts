import { compareIds } from '../../core/src/streams/stream-entry.ts';
import type { Alert, AlertEvent } from '../../core/src/types.ts';

/**
 * The API's view of alerts, built from alert events alone (stored history at start, then
 * live events), so the API works the same in one process or as its own service.
 * Keeps a bounded ring of recent events for WebSocket replay after a reconnect.
 *
 * Event ids are `<ms>-<seq>`, increasing. Distributed, they are the alert event stream's
 * entry ids, the same on every API replica and after restarts; in one process the view
 * makes them from the clock, so a restarted process never reissues an id a board holds.
 */
export function createAlertView(ringSize = 10_000, now: () => number = Date.now) {
  const alerts = new Map<string, Alert>();
  const ring: { eventId: string; event: AlertEvent }[] = [];
  let lastEventId = '0-0';
  let lastMs = 0;
  let seq = 0;
  const nextLocalId = () => {
    const t = now();
    if (t > lastMs) {
      lastMs = t;
      seq = 0;
    } else seq++;
    return `${lastMs}-${seq}`;
  };
  return {
    /** Applies an event; `id` is the transport's (stream) id, else the view makes one. Returns the event id. */
    apply(e: AlertEvent, id?: string): string {
      alerts.set(e.alertId, e.alert);
      const eventId = id ?? nextLocalId();
      // Ids only grow (a stream's do); one that does not is not kept for replay.
      if (compareIds(eventId, lastEventId) > 0) {
        lastEventId = eventId;
        ring.push({ eventId, event: e });
        if (ring.length > ringSize) ring.shift();
      }
      return eventId;
    },
    load(events: readonly AlertEvent[]) {
      for (const e of events) alerts.set(e.alertId, e.alert);
    },
    all: () => [...alerts.values()],
    get: (id: string) => alerts.get(id),
    lastEventId: () => lastEventId,
    /**
     * Events after `since` (a well-formed id); undefined when this view cannot tell (the
     * id is not the last one and not in the ring: older than the ring, from before a
     * restart, or from another deployment): replay it from elsewhere or send a snapshot.
     */
    since(since: string): { eventId: string; event: AlertEvent }[] | undefined {
      if (since === lastEventId) return [];
      // Binary search: ring ids increase.
      let lo = 0;
      let hi = ring.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const c = compareIds(ring[mid]!.eventId, since);
        if (c === 0) return ring.slice(mid + 1);
        if (c < 0) lo = mid + 1;
        else hi = mid - 1;
      }
      return undefined;
    },
  };
}

export type AlertView = ReturnType<typeof createAlertView>;
