import type { Alert, AlertEvent } from './types.ts';

/**
 * The WebSocket message map (server ↔ dashboard). Every pushed event carries a
 * monotonically increasing `eventId`; a client that reconnects with `?since=<eventId>`
 * is sent what it missed.
 */
export type ServerMessage =
  | { type: 'hello'; user: { username: string; name: string; role: string; scope: string }; lastEventId: number }
  | { type: 'snapshot'; alerts: Alert[]; lastEventId: number }
  | { type: 'alert'; eventId: number; event: AlertEvent }
  | { type: 'heartbeat'; ts: number }
  | { type: 'error'; code: string; message: string };

export type ClientMessage = { type: 'ping' };
