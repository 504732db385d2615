import { existsSync } from 'node:fs';
import { fromRoot } from '../../core/src/paths.ts';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import type { ErrorCode } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import { loadActiveAlerts, withActive } from '../../core/src/store/active-alerts.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Alert, AlertEvent, Reading } from '../../core/src/types.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { HealthCheck } from '../../core/src/health.ts';
import { registerMonitoringRoutes, type Insights } from './monitoring-routes.ts';
import { createAlertView, type AlertView } from './alert-view.ts';
import { codedError, notFound, strictRoute, type AnyError, type CodedReply } from './http-errors.ts';
import { createMemorySessions } from './memory-sessions.ts';
import type { SessionStore } from './session-store.ts';
import { registerSessionAuth } from './session-auth.ts';
import { DEFAULT_LOGIN_THROTTLE, registerLoginRoutes, type LoginThrottle } from './login-routes.ts';
import { registerAgentsRoute } from './agents-route.ts';
import { registerHealthRoute, registerMetricsRoute } from './operations-routes.ts';
import { registerNetworkRoutes } from './network-routes.ts';
import { registerAlertRoutes, type AlertActions } from './alert-routes.ts';
import { createAlertReplay, type ReplayAlertEvents } from './alert-replay.ts';
import { createWsClients } from './ws-clients.ts';
import { registerWsRoute } from './ws-route.ts';

export type { AlertActions };

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
  replayAlertEvents?: ReplayAlertEvents;
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

/**
 * The API's lifecycle and wiring: the Fastify instance with its plugins, hooks and coded
 * error handler, the alert view, and the route groups (one file each) registered on it.
 */
export function buildApp(opts: AppOptions): HazardwatchApp {
  const now = opts.now ?? Date.now;
  const sessions = opts.sessions ?? createMemorySessions(opts.sessionTtlMs, now);
  const view = createAlertView();
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

  const auth = registerSessionAuth(app, { registry: opts.registry, sessions, log: apiLogger });
  const { userOf } = auth;
  const canSee = (user: UserDef, alert: Pick<Alert, 'enterpriseId'>) => opts.registry.current.visibleEnterprises(user).has(alert.enterpriseId);
  const clients = createWsClients({ metrics: opts.metrics, canSee });
  // A socket lives as long as its session: logout, expiry and the user's removal close it at once.
  sessions.onEnd((session, reason) => clients.endSession(session.tokenHash, reason));
  const missedSince = createAlertReplay(view, opts.replayAlertEvents);

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
    // Registered in this order, which is the order of the paths in the OpenAPI document.
    registerAgentsRoute(api, { catalogue: opts.catalogue, userOf });
    monitoring = registerMonitoringRoutes(api, { registry: opts.registry, catalogue: opts.catalogue, store: opts.store, view, insights: opts.insights, kpiTargetPct: opts.kpiTargetPct ?? 85, userOf, now });
    registerLoginRoutes(api, { registry: opts.registry, store: opts.store, sessions, logger: opts.logger, metrics: opts.metrics, throttle: { ...DEFAULT_LOGIN_THROTTLE, ...opts.loginThrottle }, userOf, now });
    registerHealthRoute(api, { store: opts.store, view, clients, health: opts.health });
    registerNetworkRoutes(api, { registry: opts.registry, view, insights: opts.insights, userOf });
    registerAlertRoutes(api, { registry: opts.registry, store: opts.store, view, actions: opts.actions, userOf, canSee, now });
    registerMetricsRoute(api, { metrics: opts.metrics, clients });
    registerWsRoute(api, { registry: opts.registry, metrics: opts.metrics, log: apiLogger, view, clients, auth, canSee, missedSince, heartbeatMs: opts.heartbeatMs, now });

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
    publishAlertEvent: (e, id) => clients.publishAlert(view.apply(e, id), e),
    onReadings: (readings) => {
      monitoring?.onReadings(readings);
      clients.pushReadings(readings);
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
