import type { AlertEvent } from '../../core/src/types.ts';
import type { AlertView } from './alert-view.ts';

/** One alert event and its id, as a client receives it. */
export interface IdentifiedEvent {
  eventId: string;
  event: AlertEvent;
}

/**
 * Alert events after `since` that this process did not see (the distributed alert event
 * stream), at most `limit`; undefined when the stream does not answer. Throws
 * HW_ERR_BAD_EVENT_ID for a malformed id.
 */
export type ReplayAlertEvents = (since: string, limit: number) => Promise<{ events: { id: string; event: AlertEvent }[]; gap: boolean; more: boolean } | undefined>;

/** Replays from the stream at once, at most; a client beyond gets a snapshot (cheap) instead of waiting. */
const MAX_CONCURRENT_REPLAYS = 4;

/** Alert events replayed to one reconnecting client at most; beyond, it gets a snapshot instead. */
export const MAX_REPLAY_EVENTS = 10_000;
const REPLAY_PAGE = 1_000;

/**
 * What a reconnecting client missed after `since`: from the view's ring, else from the
 * transport's stream (another replica's id, or one from before this process started);
 * undefined when neither reaches back, or too many replays run already (then it gets a
 * snapshot). Bounded in events and in concurrent replays.
 */
export function createAlertReplay(view: AlertView, replayAlertEvents: ReplayAlertEvents | undefined): (since: string) => Promise<IdentifiedEvent[] | undefined> {
  let replaying = 0;
  return async function missedSince(since) {
    const inRing = view.since(since);
    if (inRing || !replayAlertEvents || replaying >= MAX_CONCURRENT_REPLAYS) return inRing;
    replaying++;
    try {
      const out: IdentifiedEvent[] = [];
      let from = since;
      while (out.length < MAX_REPLAY_EVENTS) {
        const r = await replayAlertEvents(from, REPLAY_PAGE);
        if (!r || r.gap) return undefined;
        for (const x of r.events) out.push({ eventId: x.id, event: x.event });
        if (!r.more || r.events.length === 0) return out;
        from = r.events[r.events.length - 1]!.id;
      }
      return undefined;
    } finally {
      replaying--;
    }
  };
}
