import type { AlertEvent } from '../../core/src/types.ts';
import type { EngineState } from './engine-state.ts';

/** Events the store holds from this long before the stream's window are compared too: the two clocks (event ts, stream entry id) may differ a little, ms. */
const CLOCK_MARGIN_MS = 60_000;

const keyOf = (e: AlertEvent) => `${e.alertId}\u0000${e.kind}\u0000${e.ts}\u0000${e.by ?? ''}\u0000${e.note ?? ''}`;

/**
 * The owned enterprises' alert events that the alert event stream holds from `from` on and
 * the store does not, in stream order. The engine writes an event to the store only after
 * the stream holds it (engine-state.ts), so these are the events a worker published and
 * died before storing: without them its successor would not know those alerts are open,
 * and would raise them a second time. Empty where the transport keeps no stream (one
 * process: there the store is the only record).
 */
export async function unstoredAlertEvents(e: EngineState, from: number, storedActive: readonly AlertEvent[]): Promise<AlertEvent[]> {
  if (!e.deps.streamedAlertEvents) return [];
  const streamed = (await e.deps.streamedAlertEvents(from)).filter((ev) => e.ownership.owns(ev.alert.enterpriseId));
  if (streamed.length === 0) return [];
  const stored = new Set((await e.deps.store.queryAlertEvents({ since: from - CLOCK_MARGIN_MS })).map(keyOf));
  // An active alert older than that window is known by its latest event only.
  for (const ev of storedActive) stored.add(keyOf(ev));
  return streamed.filter((ev) => !stored.has(keyOf(ev)));
}
