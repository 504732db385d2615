import type { Alert, AlertEvent } from './types.ts';

/**
 * The WebSocket message map (server ↔ dashboard).
 *
 * Alerts: every pushed alert event carries an increasing `eventId` (`<ms>-<seq>`); a client
 * that reconnects with `?since=<eventId>` is sent what it missed, on any API replica and
 * after a restart where the alert event stream keeps it (distributed), or a fresh snapshot
 * when nothing reaches back that far (then the client replaces its alerts). Heartbeats carry the
 * last event id too, so a client can tell it missed nothing while idle.
 *
 * Live readings are sampled, not replayed: a client subscribes to chosen sensors; when
 * it falls behind, readings are skipped and a `notice` says how many. A client that
 * cannot keep up even with alerts is disconnected (it reconnects with `since`).
 */
export type ServerMessage =
  | { type: 'hello'; user: { username: string; name: string; role: string; scope: string }; lastEventId: string }
  | { type: 'snapshot'; alerts: Alert[]; lastEventId: string }
  | { type: 'alert'; eventId: string; event: AlertEvent }
  | { type: 'heartbeat'; ts: number; lastEventId: string }
  | { type: 'subscribed'; sensors: string[]; refused: string[] }
  | { type: 'readings'; readings: LiveReading[] }
  | { type: 'notice'; code: 'readings-dropped'; dropped: number }
  | { type: 'pong' }
  | { type: 'error'; code: string; message: string };

export interface LiveReading {
  sensorId: string;
  ts: number;
  value: number;
  unit: string;
  valueStd: number;
}

export type ClientMessage =
  | { type: 'ping' }
  /** Replace the set of sensors whose live readings this socket receives (at most 500). */
  | { type: 'subscribe-readings'; sensors: string[] };

export const MAX_READING_SUBSCRIPTIONS = 500;
