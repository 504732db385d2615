import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { ERRORS, HwError, type ErrorCode } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Alert } from '../../core/src/types.ts';
import type { ServerMessage } from '../../core/src/ws-messages.ts';
import type { IdentifiedEvent } from './alert-replay.ts';
import type { AlertView } from './alert-view.ts';
import { publicUser } from './schemas.ts';
import type { SessionAuth } from './session-auth.ts';
import { tokenHash } from './session-store.ts';
import type { WsClient, WsClients } from './ws-clients.ts';
import { parseClientMessage } from './ws-client-message.ts';

export interface WsRouteDeps {
  registry: RegistryHolder;
  metrics: Metrics;
  /** The API's logger. */
  log: Logger;
  view: AlertView;
  clients: WsClients;
  auth: SessionAuth;
  canSee(user: UserDef, alert: Pick<Alert, 'enterpriseId'>): boolean;
  /** What a client reconnecting with `since` missed (alert-replay.ts). */
  missedSince(since: string): Promise<IdentifiedEvent[] | undefined>;
  heartbeatMs?: number;
  now: () => number;
}

const EVENT_ID = /^\d{1,20}-\d{1,20}$/;
const WsQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })), since: Type.Optional(Type.String({ pattern: EVENT_ID.source, maxLength: 41 })) }, { additionalProperties: false });
// The only place a token is taken from the query string: browsers cannot set headers on a WebSocket.
const wsToken = (req: FastifyRequest) => (req.query as { token?: string }).token;

/**
 * GET /ws, the live socket: hello, then a snapshot of active alerts or (with `since`) the
 * events missed since, then live alert events, the readings of the sensors it subscribes
 * to, and heartbeats. Needs @fastify/websocket registered on `api`.
 */
export function registerWsRoute(api: FastifyInstance, deps: WsRouteDeps) {
  const { view, clients } = deps;
  const { send } = clients;

  function onClientMessage(c: WsClient, text: string) {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return send(c.ws, { type: 'error', code: 'HW_ERR_BAD_REQUEST', message: parsed.message });
    const msg = parsed.msg;
    if (msg.type === 'ping') return send(c.ws, { type: 'pong' });
    // Checked against the user's scope now; foreign and unknown ids are refused alike.
    const reg = deps.registry.current;
    const visible = reg.visibleEnterprises(c.user);
    const ok = (id: string) => {
      const s = reg.sensors.get(id);
      return Boolean(s && visible.has(s.enterpriseId));
    };
    c.readings = new Set(msg.sensors.filter(ok));
    return send(c.ws, { type: 'subscribed', sensors: [...c.readings], refused: msg.sensors.filter((id) => !ok(id)) });
  }

  /**
   * A client message never throws out of the socket's handler (that would be an
   * uncaughtException and end the process): an unexpected error closes that socket
   * only (1011), and is logged and counted (hw_ws_unexpected_errors_total).
   */
  function onSocketMessage(c: WsClient, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    try {
      if (isBinary) return send(c.ws, { type: 'error', code: 'HW_ERR_BAD_REQUEST', message: 'binary messages are not accepted: send JSON text' });
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      onClientMessage(c, buf.toString('utf8'));
    } catch (err) {
      deps.metrics.wsUnexpected.inc();
      deps.log.error({ err, username: c.user.username }, 'WebSocket message failed unexpectedly; closing that socket');
      try {
        c.ws.close(1011, 'internal error');
      } catch {
        c.ws.terminate();
      }
    }
  }

  api.get('/ws', { websocket: true, schema: { hide: true, querystring: WsQuery }, preHandler: (req) => deps.auth.lookUp(req, wsToken(req)) }, (ws, req) => {
    let user: UserDef;
    try {
      user = deps.auth.userOf(req);
    } catch (err) {
      // Not logged in: 4401. The session store not answering: 1013 Try Again Later (IANA WebSocket close code registry).
      const down = err instanceof HwError && err.statusCode === 503;
      const code: ErrorCode = down ? err.code : 'HW_ERR_UNAUTHENTICATED';
      ws.send(JSON.stringify({ type: 'error', code, message: down ? err.message : ERRORS.HW_ERR_UNAUTHENTICATED.message } satisfies ServerMessage));
      ws.close(down ? 1013 : 4401, down ? 'session store unavailable' : 'unauthenticated');
      return;
    }
    const since = (req.query as { since?: string }).since;
    // Live events wait while the missed ones are looked up, so none is lost or sent out of order.
    const entry: WsClient = { ws, user, tokenHash: tokenHash(wsToken(req)!), readings: new Set(), dropped: 0, held: since ? [] : undefined };
    clients.add(entry);
    ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => onSocketMessage(entry, data, isBinary));
    const snapshot = () => {
      entry.sentUpTo = view.lastEventId();
      send(ws, { type: 'snapshot', alerts: view.all().filter((a) => a.state !== 'cleared' && deps.canSee(user, a)), lastEventId: entry.sentUpTo });
    };
    send(ws, { type: 'hello', user: publicUser(user), lastEventId: view.lastEventId() });
    if (!since) snapshot();
    else {
      void deps.missedSince(since).then(
        (missed) => {
          const held = entry.held ?? [];
          entry.held = undefined;
          if (!missed) return snapshot();
          // The client has everything up to `since`; then the missed events, then the live
          // ones that arrived meanwhile: each once, in order (sendAlert skips what was sent).
          entry.sentUpTo = since;
          for (const m of missed) clients.sendAlert(entry, m.eventId, m.event);
          for (const m of held) clients.sendAlert(entry, m.eventId, m.event);
        },
        (err: unknown) => {
          entry.held = undefined;
          deps.log.warn({ err: (err as Error).message }, 'alert replay failed: sending a snapshot');
          snapshot();
        },
      );
    }
    const beat = setInterval(() => {
      // A session that expired or a user removed from the registry is disconnected.
      if (!deps.registry.current.users.has(user.username)) return ws.close(4401, 'user removed');
      send(ws, { type: 'heartbeat', ts: deps.now(), lastEventId: view.lastEventId() });
    }, deps.heartbeatMs ?? 15_000);
    ws.on('close', () => {
      clearInterval(beat);
      clients.delete(entry);
    });
  });
}
