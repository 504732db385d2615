import { existsSync } from 'node:fs';
import { fromRoot } from '../../core/src/paths.ts';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import { Type, type Static } from '@sinclair/typebox';
import type { WebSocket } from 'ws';
import { ERRORS, HwError, type ErrorCode } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import { loadActiveAlerts, withActive } from '../../core/src/store/active-alerts.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import { RESOLVE_REASONS, type Alert, type AlertCommand, type AlertEvent, type Reading } from '../../core/src/types.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import { registerMonitoringRoutes, type Insights } from './monitoring-routes.ts';
import { ALERT_LEVELS } from '../../core/src/types.ts';
import type { LiveReading, ServerMessage } from '../../core/src/ws-messages.ts';
import { parseClientMessage } from './ws-client-message.ts';
import { createAlertView, type AlertView } from './alert-view.ts';
import { compareIds } from '../../core/src/streams/stream-entry.ts';
import { codedError, notFound, strictRoute, type AnyError, type CodedReply } from './http-errors.ts';
import { createMemorySessions } from './memory-sessions.ts';
import { tokenHash, type Session, type SessionStore } from './session-store.ts';
import { AlertEventSchema, AlertSchema, AuditEntrySchema, EnterpriseSummarySchema, EpochParam, errors, HealthSchema, JurisdictionSchema, UserSchema } from './schemas.ts';
import { DEFAULT_LOGIN_THROTTLE, registerLoginRoutes, type LoginThrottle } from './login-routes.ts';
import { checkId } from '../../core/src/store/influxql.ts';
import { checkRange, MAX_OFFSET, MAX_PAGE_SIZE, MAX_PERIOD_SPAN_MS } from '../../core/src/store/time-range.ts';
import { registerAgentsRoute } from './agents-route.ts';
import { checkAll, COMPONENTS, summarise, type HealthCheck } from '../../core/src/health.ts';

/**
 * Runs a person's command on an alert (the rules engine owns the lifecycle): the event it
 * caused, null when the alert is not in a state that allows it, undefined when nobody
 * answered (the owning rules worker is down).
 */
export interface AlertActions {
  run(cmd: AlertCommand): Promise<AlertEvent | null | undefined> | AlertEvent | null | undefined;
}

export interface AppOptions {
  registry: RegistryHolder;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  actions: AlertActions;
  sessionTtlMs: number;
  /**
   * Where login sessions live: in this process by default (createMemorySessions with
   * sessionTtlMs), or in Redis (createRedisSessions) so replicas accept each other's tokens.
   * The app starts it when ready and closes it when closing; one store per app.
   */
  sessions?: SessionStore;
  /**
   * Components for /api/health besides the store and the API itself: asked directly in one
   * process, or read from the services' reports in the split deployment (core/src/health.ts).
   */
  health?: Record<string, HealthCheck>;
  catalogue: Catalogue;
  /** Live exposure, grades (the rules engine, when it runs in this process). */
  insights?: Insights;
  /** Default plan target for the monitoring pass rate, % (a jurisdiction may set its own). */
  kpiTargetPct?: number;
  /** Built dashboard; defaults to dashboard/dist. */
  dashboardDir?: string;
  heartbeatMs?: number;
  /** Login attempts per minute per account and per address (defaults: 10 and 30). */
  loginThrottle?: Partial<LoginThrottle>;
  /**
   * Alert events after `since` that this process did not see (the distributed alert event
   * stream); absent in one process, where the view's ring is all there is. Throws
   * HW_ERR_BAD_EVENT_ID for a malformed id.
   */
  replayAlertEvents?: (since: string, limit: number) => Promise<{ events: { id: string; event: AlertEvent }[]; gap: boolean; more: boolean } | undefined>;
  now?: () => number;
}

export interface HazardwatchApp {
  app: FastifyInstance;
  view: AlertView;
  /** Feed an alert event (from the transport); `id` is the transport's event id where it has one. */
  publishAlertEvent(e: AlertEvent, id?: string): void;
  /** Load stored alert history (call before listen). */
  loadHistory(): Promise<void>;
  /** Feed accepted readings (last value per sensor, live readings on the socket). */
  onReadings(readings: readonly Reading[]): void;
}

const DEFAULT_DASHBOARD = fromRoot('dashboard/dist');

// A field with a default is optional (the default fills it), and is declared so in OpenAPI.
const AckBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000, default: '' })) }, { additionalProperties: false });
const ResolveBody = Type.Object({
  reason: Type.Union(RESOLVE_REASONS.map((r) => Type.Literal(r)), { description: 'exceedance (a real exceedance), false-alarm or sensor-fault' }),
  note: Type.Optional(Type.String({ maxLength: 2000, default: '' })),
}, { additionalProperties: false });
const CommentBody = Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
const AlertParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const Epoch = EpochParam;
const AlertsQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('cleared'), Type.Literal('active')])),
  level: Type.Optional(Type.Union(ALERT_LEVELS.map((l) => Type.Literal(l)))),
  agent: Type.Optional(Type.String({ maxLength: 100 })),
  jurisdiction: Type.Optional(Type.String({ maxLength: 100, description: 'a jurisdiction id: alerts of the enterprises under it' })),
  enterprise: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Epoch),
  to: Type.Optional(Epoch),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
}, { additionalProperties: false });
const AuditQuery = Type.Object({
  from: Type.Optional(Epoch),
  to: Type.Optional(Epoch),
  alertId: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 500 })),
}, { additionalProperties: false });
/** Alert events made by a person: the audit log. */
const AUDITED = new Set(['acknowledged', 'resolved', 'commented']);

interface Client {
  ws: WebSocket;
  user: UserDef;
  /** Sensors whose live readings this client receives. */
  readings: Set<string>;
  /** The session the socket was opened with, by token hash: the socket closes when it ends. */
  tokenHash: string;
  /** Readings skipped while the client was behind, reported in a notice. */
  dropped: number;
  /** While its missed events are replayed from the stream, live ones wait here (bounded by the replay's own limit). */
  held?: { eventId: string; event: AlertEvent }[];
  /** The newest alert event id sent to it: an event at or before it is never sent again (a replica whose follower lags). */
  sentUpTo?: string;
}

/** Replays from the stream at once, at most; a client beyond gets a snapshot (cheap) instead of waiting. */
const MAX_CONCURRENT_REPLAYS = 4;

/** Alert events replayed to one reconnecting client at most; beyond, it gets a snapshot instead. */
const MAX_REPLAY_EVENTS = 10_000;
const REPLAY_PAGE = 1_000;
const EVENT_ID = /^\d{1,20}-\d{1,20}$/;

/** Beyond this much unsent data a client gets no live readings (sampled, with a notice). */
const SAMPLE_ABOVE_BYTES = 512 * 1024;
/** Beyond this it is disconnected: it reconnects with `since` and loses no alert. */
const DROP_ABOVE_BYTES = 4 * 1024 * 1024;

const publicUser = (u: UserDef) => ({ username: u.username, name: u.name, role: u.role, scope: u.scope });

export function buildApp(opts: AppOptions): HazardwatchApp {
  const now = opts.now ?? Date.now;
  const sessions = opts.sessions ?? createMemorySessions(opts.sessionTtlMs, now);
  const view = createAlertView();
  const sockets = new Set<Client>();
  // Per-request access logs stay off at info level: the api child logs from warn up.
  const apiLogger = opts.logger.child({ module: 'api' }, { level: opts.logger.level === 'info' ? 'warn' : opts.logger.level });
  const sendCoded = (r: FastifyReply, c: CodedReply) => r.code(c.status).send({ code: c.code, message: c.message });
  const app = Fastify({
    loggerInstance: apiLogger as FastifyBaseLogger,
    // An unknown query or body field is a 400 naming it, not silently dropped (or ignored).
    ajv: { customOptions: { removeAdditional: false } },
    // Path params up to this length reach their schema (a coded 400); longer ones are 414 (declared).
    maxParamLength: 1000,
    // A bad or over-long URL is refused with a code too (http-errors.ts).
    frameworkErrors: (err, _req, r) => sendCoded(r, codedError(err as AnyError)),
  }) as unknown as FastifyInstance;

  // Coded errors: every non-2xx carries an HW_ code of core/src/errors.ts (http-errors.ts);
  // a 4xx names the field and the reason, a 5xx says nothing of its cause (that is logged).
  app.setErrorHandler((err: AnyError, req, r) => {
    const c = codedError(err);
    if (c.status >= 500) req.log.error({ err }, 'request failed');
    return sendCoded(r, c);
  });
  app.setNotFoundHandler(notFound);
  // Only JSON bodies: text/plain is 415 HW_ERR_UNSUPPORTED_MEDIA_TYPE, as declared, not a schema failure.
  app.removeContentTypeParser('text/plain');
  // Unknown query fields are refused on every API route, also those that take none.
  app.addHook('onRoute', strictRoute);

  /**
   * The session of each request's token, looked up once before its handler (the store may
   * be Redis, so the lookup is async while userOf stays a plain call in every route). A
   * store that does not answer is kept as its error and thrown by userOf (a coded 503):
   * routes that need no user still answer, and a failed lookup never passes for a session.
   */
  const sessionOf = new WeakMap<FastifyRequest, { session?: Session } | { error: unknown }>();
  const lookUp = async (req: FastifyRequest, token: string | undefined) => {
    try {
      sessionOf.set(req, { session: await sessions.get(token) });
    } catch (error) {
      sessionOf.set(req, { error });
    }
  };
  /**
   * The token only from `Authorization: Bearer`, never from the query string (a URL ends
   * up in logs, history and Referer headers). Only the WebSocket upgrade takes `?token=`,
   * because browsers cannot set headers on it (its route looks that up itself).
   */
  app.addHook('preHandler', async (req) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) await lookUp(req, header.slice(7));
  });
  /** The user of a request, from its session looked up above. */
  const userOf = (req: FastifyRequest): UserDef => {
    const found = sessionOf.get(req);
    if (found && 'error' in found) throw found.error;
    const user = found?.session && opts.registry.current.users.get(found.session.username);
    if (!user) throw new HwError('HW_ERR_UNAUTHENTICATED');
    return user;
  };

  // A socket lives as long as its session: logout, expiry and the user's removal close it at once.
  sessions.onEnd((session, reason) => {
    for (const c of sockets) if (c.tokenHash === session.tokenHash) c.ws.close(4401, `session ended: ${reason}`);
  });
  // A user removed from the registry, or whose role, scope or password changed, is logged out.
  const onReload = (next: { users: ReadonlyMap<string, UserDef> }, previous: { users: ReadonlyMap<string, UserDef> }) => {
    sessions.endUsers((name) => {
      const now = next.users.get(name);
      const before = previous.users.get(name);
      return !now || !before || now.role !== before.role || now.scope !== before.scope || now.passwordHash !== before.passwordHash;
    }).catch((err: unknown) => apiLogger.error({ err }, 'sessions of users removed or changed in the registry were not ended'));
  };
  opts.registry.on('reload', onReload);
  app.addHook('onReady', () => sessions.start());
  app.addHook('onClose', async () => {
    opts.registry.off('reload', onReload);
    await sessions.close();
  });
  const canSee = (user: UserDef, alert: Pick<Alert, 'enterpriseId'>) => opts.registry.current.visibleEnterprises(user).has(alert.enterpriseId);

  const send = (ws: WebSocket, msg: ServerMessage) => {
    // A slow client is dropped rather than allowed to buffer without bound: the
    // pipeline never waits for a socket.
    if (ws.bufferedAmount > DROP_ABOVE_BYTES) {
      opts.metrics.wsDropped.inc();
      ws.terminate();
      return;
    }
    ws.send(JSON.stringify(msg));
  };

  function pushReadings(readings: readonly Reading[]) {
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
  }

  function onClientMessage(c: Client, text: string) {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) return send(c.ws, { type: 'error', code: 'HW_ERR_BAD_REQUEST', message: parsed.message });
    const msg = parsed.msg;
    if (msg.type === 'ping') return send(c.ws, { type: 'pong' });
    // Checked against the user's scope now; foreign and unknown ids are refused alike.
    const reg = opts.registry.current;
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
  function onSocketMessage(c: Client, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    try {
      if (isBinary) return send(c.ws, { type: 'error', code: 'HW_ERR_BAD_REQUEST', message: 'binary messages are not accepted: send JSON text' });
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      onClientMessage(c, buf.toString('utf8'));
    } catch (err) {
      opts.metrics.wsUnexpected.inc();
      apiLogger.error({ err, username: c.user.username }, 'WebSocket message failed unexpectedly; closing that socket');
      try {
        c.ws.close(1011, 'internal error');
      } catch {
        c.ws.terminate();
      }
    }
  }

  function publishAlertEvent(e: AlertEvent, id?: string) {
    const eventId = view.apply(e, id);
    for (const s of sockets) {
      if (!canSee(s.user, e.alert)) continue;
      if (s.held) {
        if (s.held.length < MAX_REPLAY_EVENTS) s.held.push({ eventId, event: e });
        else s.ws.close(4408, 'too far behind: reconnect'); // it comes back with `since`, or takes a snapshot
      } else sendAlert(s, eventId, e);
    }
  }

  /** An alert event to one client, once: never one at or before what it already has. */
  function sendAlert(c: Client, eventId: string, event: AlertEvent) {
    if (c.sentUpTo !== undefined && compareIds(eventId, c.sentUpTo) <= 0) return;
    c.sentUpTo = eventId;
    if (canSee(c.user, event.alert)) send(c.ws, { type: 'alert', eventId, event });
  }

  let replaying = 0;
  /**
   * What a reconnecting client missed after `since`: from the view's ring, else from the
   * transport's stream (another replica's id, or one from before this process started);
   * undefined when neither reaches back, or too many replays run already (then it gets a
   * snapshot). Bounded in events and in concurrent replays.
   */
  async function missedSince(since: string): Promise<{ eventId: string; event: AlertEvent }[] | undefined> {
    const inRing = view.since(since);
    if (inRing || !opts.replayAlertEvents || replaying >= MAX_CONCURRENT_REPLAYS) return inRing;
    replaying++;
    try {
      const out: { eventId: string; event: AlertEvent }[] = [];
      let from = since;
      while (out.length < MAX_REPLAY_EVENTS) {
        const r = await opts.replayAlertEvents(from, REPLAY_PAGE);
        if (!r || r.gap) return undefined;
        for (const x of r.events) out.push({ eventId: x.id, event: x.event });
        if (!r.more || r.events.length === 0) return out;
        from = r.events[r.events.length - 1]!.id;
      }
      return undefined;
    } finally {
      replaying--;
    }
  }

  let monitoring: ReturnType<typeof registerMonitoringRoutes> | undefined;
  // Security headers on every answer. The dashboard loads only its own scripts, styles and
  // sockets (Vite bundles, no inline script or style), so 'self' is all it needs; no page may frame it.
  void app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // The API is often served over plain HTTP inside a plant or office network: no HSTS,
    // and no upgrade-insecure-requests (it would send the dashboard's own requests to https).
    strictTransportSecurity: false,
  });
  void app.register(fastifyRateLimit, { global: false });
  // OpenAPI from the route schemas; the UI at /docs.
  void app.register(fastifySwagger, {
    openapi: {
      info: { title: 'hazardwatch API', version: '0.1.0', description: 'Regulator and enterprise API: jurisdictions, enterprises, sensors, readings, exposure, alerts and their audit log, plan KPIs. Log in with POST /api/login, then send `Authorization: Bearer <token>`. Live alerts and readings: WebSocket /ws (see README).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  // The docs UI has its own CSP (its inline bootstrap by hash), still unframeable and without upgrade-insecure-requests.
  void app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    staticCSP: true,
    transformStaticCSP: (h) => h.replace(/frame-ancestors [^;]*;/, "frame-ancestors 'none';").replace(/\s*upgrade-insecure-requests;?/, ''),
  });
  void app.register(fastifyWebsocket, { options: { maxPayload: 64 * 1024 } });
  void app.register(async (api) => {
    registerAgentsRoute(api, { catalogue: opts.catalogue, userOf });
    monitoring = registerMonitoringRoutes(api, { registry: opts.registry, catalogue: opts.catalogue, store: opts.store, view, insights: opts.insights, kpiTargetPct: opts.kpiTargetPct ?? 85, userOf, now });
    registerLoginRoutes(api, { registry: opts.registry, store: opts.store, sessions, logger: opts.logger, metrics: opts.metrics, throttle: { ...DEFAULT_LOGIN_THROTTLE, ...opts.loginThrottle }, userOf, publicUser, now });
    api.get('/api/me', { schema: { tags: ['session'], summary: 'The logged-in user', response: { 200: UserSchema, ...errors(401) } } }, async (req) => publicUser(userOf(req)));

    api.get('/api/health', { schema: { tags: ['operations'], security: [], response: { 200: HealthSchema, 503: HealthSchema } } }, async (_req, reply) => {
      const checks: Record<string, HealthCheck> = {
        ...opts.health,
        store: () => opts.store.health(),
        api: () => ({ ok: true, detail: `${sockets.size} WebSocket clients, ${view.all().length} alerts in view` }),
      };
      // The usual components first, in pipeline order, then any others.
      const names = [...COMPONENTS.filter((n) => n in checks), ...Object.keys(checks).filter((n) => !(COMPONENTS as readonly string[]).includes(n))];
      const health = summarise(await checkAll(Object.fromEntries(names.map((n) => [n, checks[n]!]))));
      return reply.code(health.status === 'ok' ? 200 : 503).send(health);
    });

    api.get('/api/jurisdictions', { schema: { tags: ['network'], summary: 'Your part of the jurisdiction tree: your jurisdiction, everything under it, and its ancestors', response: { 200: Type.Array(JurisdictionSchema), ...errors(401) } } }, async (req) => {
      const user = userOf(req);
      const reg = opts.registry.current;
      // An enterprise officer's own jurisdiction is their enterprise's township.
      const own = user.role === 'enterprise' ? reg.enterprises.get(user.scope)?.township : user.scope;
      if (own === undefined) return [];
      const chain = new Set(reg.ancestors(own));
      return [...reg.jurisdictions.values()].filter((j) => chain.has(j.id) || (user.role !== 'enterprise' && reg.ancestors(j.id).includes(own)));
    });

    api.get('/api/enterprises', { schema: { tags: ['network'], summary: 'Enterprises you may see, with their GBZ/T 229 grade (worst point) and open alerts', response: { 200: Type.Array(EnterpriseSummarySchema), ...errors(401) } } }, async (req) => {
      const user = userOf(req);
      const reg = opts.registry.current;
      const visible = reg.visibleEnterprises(user);
      const open = view.all().filter((a) => a.state !== 'cleared');
      return [...reg.enterprises.values()].filter((e) => visible.has(e.id)).map((e) => ({
        id: e.id, name: e.name, nameEn: e.nameEn, industry: e.industry, township: e.township, profile: e.profileId,
        grade: opts.insights?.enterpriseGrade(e.id) ?? null,
        sensors: e.gateways.reduce((n, g) => n + g.sensors.length, 0),
        openAlerts: open.filter((a) => a.enterpriseId === e.id).length,
      }));
    });

    api.get('/api/alerts', { schema: { querystring: AlertsQuery, response: { 200: Type.Array(AlertSchema), ...errors(400, 401, 404) }, tags: ['alerts'], summary: 'Alerts you may see, worst level first, filtered and paged (total in x-total-count)' } }, async (req, reply) => {
      const user = userOf(req);
      const q = req.query as Static<typeof AlertsQuery> & { offset: number; limit: number };
      if (q.from !== undefined && q.to !== undefined) checkRange(q.from, q.to);
      const reg = opts.registry.current;
      // A jurisdiction outside the caller's subtree (an enterprise officer's: their township's)
      // answers exactly as an unknown one, so sibling ids cannot be probed (as /api/kpi).
      const root = user.role === 'enterprise' ? reg.enterprises.get(user.scope)?.township : user.scope;
      if (q.jurisdiction && !(root !== undefined && reg.jurisdictions.has(q.jurisdiction) && reg.ancestors(q.jurisdiction).includes(root))) throw new HwError('HW_ERR_NOT_FOUND', `jurisdiction ${q.jurisdiction}`);
      const matches = view.all()
        .filter((a) => canSee(user, a))
        .filter((a) => !q.state || (q.state === 'active' ? a.state !== 'cleared' : a.state === q.state))
        .filter((a) => !q.level || a.level === q.level)
        .filter((a) => !q.agent || a.agent === q.agent)
        .filter((a) => !q.enterprise || a.enterpriseId === q.enterprise)
        .filter((a) => !q.jurisdiction || reg.ancestors(a.townshipId).includes(q.jurisdiction))
        // In the time range: the alert was active at some point in [from, to].
        .filter((a) => (q.from === undefined || a.state !== 'cleared' || a.updatedAt >= q.from) && (q.to === undefined || a.openedAt <= q.to))
        .sort((a, b) => ALERT_LEVELS.indexOf(b.level) - ALERT_LEVELS.indexOf(a.level) || b.updatedAt - a.updatedAt);
      void reply.header('x-total-count', String(matches.length));
      return matches.slice(q.offset, q.offset + q.limit);
    });

    /** An alert the user may see, or 404 alike for foreign and unknown ids (ids cannot be probed). */
    const visibleAlert = (user: UserDef, id: string): Alert => {
      const alert = view.get(id);
      if (!alert || !canSee(user, alert)) throw new HwError('HW_ERR_NOT_FOUND', `alert ${id}`);
      return alert;
    };
    const act = async (cmd: AlertCommand) => {
      const state = view.get(cmd.alertId)?.state;
      const allowed = cmd.op === 'ack' ? state === 'open' : state !== 'cleared';
      const e = allowed ? await opts.actions.run(cmd) : null;
      if (e === undefined) throw new HwError('HW_ERR_RULES_UNAVAILABLE', `alert ${cmd.alertId}: nothing was done`);
      if (!e) throw new HwError('HW_ERR_CONFLICT', `alert ${cmd.alertId} is ${state}: ${cmd.op === 'ack' ? 'only an open alert can be acknowledged' : 'it has already cleared'}`);
      return e.alert;
    };

    api.get('/api/alerts/:id', { schema: { params: AlertParams, response: { 200: Type.Object({ alert: AlertSchema, events: Type.Array(AlertEventSchema) }), ...errors(400, 401, 404, 414, 503) }, tags: ['alerts'], summary: 'One alert and its whole history' } }, async (req) => {
      const user = userOf(req);
      const { id } = req.params as { id: string };
      const alert = visibleAlert(user, id);
      return { alert, events: await opts.store.queryAlertEvents({ alertId: id }) };
    });

    api.post('/api/alerts/:id/ack', { schema: { params: AlertParams, body: AckBody, response: { 200: AlertSchema, ...errors(400, 401, 404, 409, 413, 414, 415, 503) }, tags: ['alerts'], summary: 'Acknowledge an open alert with a note' } }, async (req) => {
      const user = userOf(req);
      const { id } = req.params as { id: string };
      visibleAlert(user, id);
      return act({ op: 'ack', alertId: id, by: user.username, note: (req.body as { note?: string }).note ?? '' });
    });

    api.post('/api/alerts/:id/resolve', { schema: { params: AlertParams, body: ResolveBody, response: { 200: AlertSchema, ...errors(400, 401, 403, 404, 409, 413, 414, 415, 503) }, tags: ['alerts'], summary: 'Resolve an active alert with a reason (regulators only)' } }, async (req) => {
      const user = userOf(req);
      const { id } = req.params as { id: string };
      visibleAlert(user, id);
      // Closing an alert is the regulator's decision; an enterprise officer acknowledges and comments.
      if (user.role === 'enterprise') throw new HwError('HW_ERR_FORBIDDEN', 'only a regulator may resolve an alert');
      const body = req.body as Static<typeof ResolveBody>;
      return act({ op: 'resolve', alertId: id, by: user.username, reason: body.reason, note: body.note ?? '' });
    });

    api.post('/api/alerts/:id/comment', { schema: { params: AlertParams, body: CommentBody, response: { 200: AlertSchema, ...errors(400, 401, 404, 409, 413, 414, 415, 503) }, tags: ['alerts'], summary: 'Add a note (e.g. rectification steps) to an active alert' } }, async (req) => {
      const user = userOf(req);
      const { id } = req.params as { id: string };
      visibleAlert(user, id);
      return act({ op: 'comment', alertId: id, by: user.username, note: (req.body as { note: string }).note });
    });

    api.get('/api/audit', { schema: { querystring: AuditQuery, response: { 200: Type.Array(AuditEntrySchema), ...errors(400, 401, 503) }, tags: ['alerts'], summary: 'The audit log: every acknowledgement, resolution and comment you may see, newest first, over at most 366 days (default: the last 366 days)' } }, async (req) => {
      const user = userOf(req);
      const q = req.query as Static<typeof AuditQuery> & { limit: number };
      const to = q.to ?? Math.max(now(), q.from ?? 0);
      const { from } = checkRange(q.from ?? Math.max(0, to - MAX_PERIOD_SPAN_MS), to, { maxSpanMs: MAX_PERIOD_SPAN_MS });
      if (q.alertId !== undefined) checkId(q.alertId, 'querystring/alertId');
      const events = await opts.store.queryAlertEvents({ since: from, alertId: q.alertId });
      return events
        .filter((e) => AUDITED.has(e.kind) && canSee(user, e.alert) && e.ts <= to)
        .sort((a, b) => b.ts - a.ts)
        .slice(0, q.limit)
        .map((e) => ({ ts: e.ts, kind: e.kind, by: e.by, note: e.note, reason: e.kind === 'resolved' ? e.alert.resolution?.reason : undefined, alertId: e.alertId, enterpriseId: e.alert.enterpriseId, sensorId: e.alert.sensorId, level: e.alert.level }));
    });

    api.get('/metrics', { schema: { tags: ['operations'], security: [], summary: 'Prometheus text (prom-client)', response: { 200: { type: 'string' } } } }, async (_req, reply) => {
      opts.metrics.wsClients.set(sockets.size);
      return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
    });

    const WsQuery = Type.Object({ token: Type.Optional(Type.String({ maxLength: 200 })), since: Type.Optional(Type.String({ pattern: EVENT_ID.source, maxLength: 41 })) }, { additionalProperties: false });
    // The only place a token is taken from the query string: browsers cannot set headers on a WebSocket.
    const wsToken = (req: FastifyRequest) => (req.query as { token?: string }).token;
    api.get('/ws', { websocket: true, schema: { hide: true, querystring: WsQuery }, preHandler: (req) => lookUp(req, wsToken(req)) }, (ws, req) => {
      let user: UserDef;
      try {
        user = userOf(req);
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
      const entry: Client = { ws, user, tokenHash: tokenHash(wsToken(req)!), readings: new Set(), dropped: 0, held: since ? [] : undefined };
      sockets.add(entry);
      ws.on('message', (data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => onSocketMessage(entry, data, isBinary));
      const snapshot = () => {
        entry.sentUpTo = view.lastEventId();
        send(ws, { type: 'snapshot', alerts: view.all().filter((a) => a.state !== 'cleared' && canSee(user, a)), lastEventId: entry.sentUpTo });
      };
      send(ws, { type: 'hello', user: publicUser(user), lastEventId: view.lastEventId() });
      if (!since) snapshot();
      else {
        void missedSince(since).then(
          (missed) => {
            const held = entry.held ?? [];
            entry.held = undefined;
            if (!missed) return snapshot();
            // The client has everything up to `since`; then the missed events, then the live
            // ones that arrived meanwhile: each once, in order (sendAlert skips what was sent).
            entry.sentUpTo = since;
            for (const m of missed) sendAlert(entry, m.eventId, m.event);
            for (const m of held) sendAlert(entry, m.eventId, m.event);
          },
          (err: unknown) => {
            entry.held = undefined;
            apiLogger.warn({ err: (err as Error).message }, 'alert replay failed: sending a snapshot');
            snapshot();
          },
        );
      }
      const beat = setInterval(() => {
        // A session that expired or a user removed from the registry is disconnected.
        if (!opts.registry.current.users.has(user.username)) return ws.close(4401, 'user removed');
        send(ws, { type: 'heartbeat', ts: now(), lastEventId: view.lastEventId() });
      }, opts.heartbeatMs ?? 15_000);
      ws.on('close', () => {
        clearInterval(beat);
        sockets.delete(entry);
      });
    });

    const dir = opts.dashboardDir ?? DEFAULT_DASHBOARD;
    if (existsSync(dir)) {
      await api.register(fastifyStatic, { root: dir, prefix: '/' });
    } else {
      api.get('/', async (_req, reply) => reply.type('text/plain').send('dashboard not built: run `npm run build`'));
    }
  });

  return {
    app,
    view,
    publishAlertEvent,
    onReadings: (readings) => {
      monitoring?.onReadings(readings);
      pushReadings(readings);
    },
    async loadHistory() {
      // The last 30 days of events, plus every alert still active however old (its latest event).
      const active = await loadActiveAlerts(opts.store);
      if (active.truncated) apiLogger.warn({ loaded: active.events.length }, 'more active alerts than MAX_ACTIVE_ALERTS: only the oldest are shown');
      view.load(withActive(await opts.store.queryAlertEvents({ since: now() - 30 * 24 * 3600_000 }), active.events));
    },
  };
}

export type { ErrorCode };
