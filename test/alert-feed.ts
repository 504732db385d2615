import WebSocket from 'ws';
import type { AlertEvent } from '../core/src/types.ts';
import type { ServerMessage } from '../core/src/ws-messages.ts';
import { waitFor } from './ports.ts';

export interface FeedEvent {
  eventId: string;
  event: AlertEvent;
}

/**
 * A dashboard's alert feed over the API's WebSocket, across reconnections: the alert
 * events it received, in arrival order, over every socket it opened. The first socket
 * starts from a snapshot; `moveTo` opens the next one on any API replica with
 * `since` = the last event id received, as the dashboard does after a disconnect.
 */
export interface AlertFeed {
  events: FeedEvent[];
  /** The first snapshot's lastEventId: the feed should hold every event after it. */
  readonly startId: string;
  /** Snapshots received after the first: the server could not replay from `since`. */
  readonly laterSnapshots: number;
  /** The id a reconnection resumes from: the last alert event received, else startId. */
  lastId(): string;
  /** Resolves when the current socket has closed (its server went away, or close()). */
  closed(): Promise<void>;
  moveTo(httpPort: number): Promise<void>;
  close(): void;
}

/** `token`: a session of the user (sessions live in Redis in the split topology: any replica accepts it). */
export async function openAlertFeed(httpPort: number, token: string): Promise<AlertFeed> {
  const events: FeedEvent[] = [];
  let startId: string | undefined;
  let laterSnapshots = 0;
  /** Errors and closes, for the message of a failed wait. */
  const notes: string[] = [];
  let ws: WebSocket;
  let closed: Promise<void>;

  async function open(port: number, since?: string): Promise<void> {
    const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${encodeURIComponent(token)}${since ? `&since=${encodeURIComponent(since)}` : ''}`);
    socket.on('message', (d) => {
      const m = JSON.parse(d.toString()) as ServerMessage;
      if (m.type === 'alert') events.push({ eventId: m.eventId, event: m.event });
      else if (m.type === 'snapshot') {
        if (startId === undefined) startId = m.lastEventId;
        else laterSnapshots++;
      } else if (m.type === 'error') notes.push(`${m.code}: ${m.message}`);
    });
    socket.on('error', () => {}); // a killed server resets the connection: seen as 'close'
    closed = new Promise((resolve) => socket.once('close', (code, reason) => {
      notes.push(`closed ${code} ${reason.toString()}`);
      resolve();
    }));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    ws = socket;
  }

  await open(httpPort);
  await waitFor(() => startId !== undefined || undefined, { what: 'the first snapshot' }).catch((err: Error) => {
    ws.close();
    throw new Error(`${err.message} (${notes.join('; ') || 'nothing else received'})`);
  });
  const feed: AlertFeed = {
    events,
    get startId() { return startId!; },
    get laterSnapshots() { return laterSnapshots; },
    lastId: () => events.at(-1)?.eventId ?? startId!,
    closed: () => closed,
    moveTo: (port) => open(port, feed.lastId()),
    close: () => ws.close(),
  };
  return feed;
}
