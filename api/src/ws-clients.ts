import type { WebSocket } from 'ws';
import type { Metrics } from '../../core/src/metrics.ts';
import type { UserDef } from '../../core/src/registry.ts';
import { compareIds } from '../../core/src/streams/stream-entry.ts';
import type { Alert, AlertEvent, Reading } from '../../core/src/types.ts';
import type { LiveReading, ServerMessage } from '../../core/src/ws-messages.ts';
import { MAX_REPLAY_EVENTS, type IdentifiedEvent } from './alert-replay.ts';

/** One open WebSocket and what it is owed. */
export interface WsClient {
  ws: WebSocket;
  user: UserDef;
  /** Sensors whose live readings this client receives. */
  readings: Set<string>;
  /** The session the socket was opened with, by token hash: the socket closes when it ends. */
  tokenHash: string;
  /** Readings skipped while the client was behind, reported in a notice. */
  dropped: number;
  /** While its missed events are replayed from the stream, live ones wait here (bounded by the replay's own limit). */
  held?: IdentifiedEvent[];
  /** The newest alert event id sent to it: an event at or before it is never sent again (a replica whose follower lags). */
  sentUpTo?: string;
}

/** Beyond this much unsent data a client gets no live readings (sampled, with a notice). */
const SAMPLE_ABOVE_BYTES = 512 * 1024;
/** Beyond this it is disconnected: it reconnects with `since` and loses no alert. */
const DROP_ABOVE_BYTES = 4 * 1024 * 1024;

export interface WsClients {
  readonly size: number;
  add(c: WsClient): void;
  delete(c: WsClient): void;
  /** A message to one socket, or the socket terminated when it is too far behind. */
  send(ws: WebSocket, msg: ServerMessage): void;
  /** Live readings to the clients subscribed to their sensors. */
  pushReadings(readings: readonly Reading[]): void;
  /** An alert event (applied to the view as `eventId`) to every client that may see it. */
  publishAlert(eventId: string, e: AlertEvent): void;
  /** An alert event to one client, once: never one at or before what it already has. */
  sendAlert(c: WsClient, eventId: string, event: AlertEvent): void;
  /** Closes the sockets opened with a session that ended. */
  endSession(tokenHash: string, reason: string): void;
}

/** The open WebSockets and the push of readings and alert events to them; the pipeline never waits for a socket. */
export function createWsClients(deps: { metrics: Metrics; canSee(user: UserDef, alert: Pick<Alert, 'enterpriseId'>): boolean }): WsClients {
  const sockets = new Set<WsClient>();
  const { canSee } = deps;

  const send = (ws: WebSocket, msg: ServerMessage) => {
    // A slow client is dropped rather than allowed to buffer without bound: the
    // pipeline never waits for a socket.
    if (ws.bufferedAmount > DROP_ABOVE_BYTES) {
      deps.metrics.wsDropped.inc();
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(msg));
  };

  function sendAlert(c: WsClient, eventId: string, event: AlertEvent) {
    if (c.sentUpTo !== undefined && compareIds(eventId, c.sentUpTo) <= 0) return;
    c.sentUpTo = eventId;
    if (canSee(c.user, event.alert)) send(c.ws, { type: 'alert', eventId, event });
  }

  return {
    get size() {
      return sockets.size;
    },
    add(c) {
      sockets.add(c);
    },
    delete(c) {
      sockets.delete(c);
    },
    send,
    sendAlert,
    pushReadings(readings) {
      for (const c of sockets) {
        if (c.readings.size === 0) continue;
        const mine: LiveReading[] = [];
        for (const r of readings) if (c.readings.has(r.sensorId)) mine.push({ sensorId: r.sensorId, ts: r.ts, value: r.value, unit: r.unit, valueStd: r.valueStd });
        if (mine.length === 0) continue;
        if (c.ws.bufferedAmount > SAMPLE_ABOVE_BYTES) {
          c.dropped += mine.length;
          continue;
        }
        if (c.dropped > 0) {
          send(c.ws, { type: 'notice', code: 'readings-dropped', dropped: c.dropped });
          c.dropped = 0;
        }
        send(c.ws, { type: 'readings', readings: mine });
      }
    },
    publishAlert(eventId, e) {
      for (const s of sockets) {
        if (!canSee(s.user, e.alert)) continue;
        if (s.held) {
          if (s.held.length < MAX_REPLAY_EVENTS) s.held.push({ eventId, event: e });
          else s.ws.close(4408, 'too far behind: reconnect'); // it comes back with `since`, or takes a snapshot
        } else sendAlert(s, eventId, e);
      }
    },
    endSession(tokenHash, reason) {
      for (const c of sockets) if (c.tokenHash === tokenHash) c.ws.close(4401, `session ended: ${reason}`);
    },
  };
}
