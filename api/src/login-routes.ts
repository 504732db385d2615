import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HwError } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import { AccountThrottle } from '../../core/src/account-throttle.ts';
import { OncePerWindow } from './once-per-window.ts';
import { verifySecret } from '../../core/src/password.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { AccessEvent, Store } from '../../core/src/store/store.ts';
import { checkRange, MAX_PAGE_SIZE, MAX_PERIOD_SPAN_MS } from '../../core/src/store/time-range.ts';
import type { SessionStore } from './session-store.ts';
import { EpochParam, errors, publicUser, UserSchema } from './schemas.ts';

/**
 * Login throttling. Per client address: attempts per minute, successes included (each
 * costs a scrypt). Per account: failed logins per minute, after which the account is
 * refused for a minute from every address that has not logged in to it successfully in
 * the last KNOWN_ADDRESS_MS (core/src/account-throttle.ts, the broker's rule too).
 */
export interface LoginThrottle {
  perAccountPerMin: number;
  perAddressPerMin: number;
}
/** How long a successful login keeps its address exempt from that account's lockout. */
export const KNOWN_ADDRESS_MS = 30 * 24 * 3600_000;
const WINDOW_MS = 60_000;
export const DEFAULT_LOGIN_THROTTLE: LoginThrottle = { perAccountPerMin: 10, perAddressPerMin: 30 };

const LoginBody = Type.Object({ username: Type.String({ minLength: 1, maxLength: 64 }), password: Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const AccessQuery = Type.Object({
  from: Type.Optional(EpochParam),
  to: Type.Optional(EpochParam),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 500 })),
}, { additionalProperties: false });
const AccessEventSchema = Type.Object({
  ts: Type.Integer(),
  kind: Type.Union([Type.Literal('login'), Type.Literal('login-failed'), Type.Literal('logout')]),
  username: Type.String(),
  address: Type.String(),
  reason: Type.Optional(Type.String()),
});

/** Verify against a dummy hash for unknown users so timing does not reveal them. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export interface LoginDeps {
  registry: RegistryHolder;
  store: Store;
  sessions: SessionStore;
  logger: Logger;
  metrics: Metrics;
  throttle: LoginThrottle;
  userOf(req: FastifyRequest): UserDef;
  now: () => number;
}

type Limiter = (req: FastifyRequest) => Promise<{ isExceeded: boolean; ttlInSeconds: number }>;
interface WithRateLimit {
  createRateLimit(opts: { max: number; timeWindow: number; keyGenerator(req: FastifyRequest): string }): Limiter;
}

/**
 * POST /api/login (throttled per account and per address; every attempt that reaches the
 * password check is audited with its address, never its password, and a throttled one
 * once per window per address or account, the rest counted in hw_api_login_throttled_total),
 * POST /api/logout, GET /api/audit/logins for regulators, and GET /api/me (the logged-in user).
 * Needs @fastify/rate-limit registered (with `global: false`) on `api`.
 */
export function registerLoginRoutes(api: FastifyInstance, deps: LoginDeps) {
  const log = deps.logger.child({ module: 'login' });
  const limits = api as unknown as WithRateLimit;
  const perAddress = limits.createRateLimit({ max: deps.throttle.perAddressPerMin, timeWindow: WINDOW_MS, keyGenerator: (req) => `address:${req.ip}` });
  const perAccount = new AccountThrottle({ limit: deps.throttle.perAccountPerMin, blockMs: WINDOW_MS, windowMs: WINDOW_MS, knownForMs: KNOWN_ADDRESS_MS });
  const throttledAudit = new OncePerWindow(WINDOW_MS);

  const audit = (e: AccessEvent) => {
    // The audit write must not make a login wait on (or fail with) the store; a failure is logged.
    deps.store.writeAccessEvents([e]).catch((err: Error) => log.error({ err: err.message, kind: e.kind, username: e.username }, 'access event not stored'));
  };

  api.post('/api/login', {
    schema: {
      body: LoginBody, tags: ['session'], security: [],
      summary: 'Log in; throttled per account and per address (429 with Retry-After)',
      response: { 200: Type.Object({ token: Type.String(), expiresAt: Type.Integer(), user: UserSchema }), ...errors(400, 401, 413, 415, 429, 503) },
    },
  }, async (req, reply: FastifyReply) => {
    const { username, password } = req.body as Static<typeof LoginBody>;
    const ts = deps.now();
    const known = deps.registry.current.users.get(username);
    // The address limit counts every attempt; the account limit only failures, and spares
    // addresses that logged in to the account recently. Unknown names have no account entry.
    const byAddress = await perAddress(req);
    const accountWaitMs = known ? perAccount.blockedFor(username, req.ip, ts) : 0;
    if (byAddress.isExceeded || accountWaitMs > 0) {
      const limit = byAddress.isExceeded ? 'address' : 'account';
      const retryAfterS = Math.max(1, byAddress.isExceeded ? byAddress.ttlInSeconds : 0, Math.ceil(accountWaitMs / 1000));
      void reply.header('retry-after', String(retryAfterS));
      deps.metrics.apiLoginThrottled.inc({ limit });
      // One audit row per window and key; the flood itself is in the metric.
      if (throttledAudit.first(limit === 'address' ? `address:${req.ip}` : `account:${username}`, ts)) {
        audit({ ts, kind: 'login-failed', username, address: req.ip, reason: 'HW_ERR_RATE_LIMITED' });
      }
      throw new HwError('HW_ERR_RATE_LIMITED', `too many login attempts ${limit === 'address' ? 'from this address' : 'for this account'}; retry in ${retryAfterS} s`);
    }
    const user = known;
    const ok = await verifySecret(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      if (user) perAccount.failed(username, deps.now());
      audit({ ts, kind: 'login-failed', username, address: req.ip, reason: 'HW_ERR_BAD_LOGIN' });
      throw new HwError('HW_ERR_BAD_LOGIN');
    }
    perAccount.succeeded(username, req.ip, deps.now());
    const s = await deps.sessions.create(user);
    audit({ ts, kind: 'login', username, address: req.ip });
    req.log.info({ username }, 'login');
    return { token: s.token, expiresAt: s.expiresAt, user: publicUser(user) };
  });

  api.post('/api/logout', { schema: { tags: ['session'], summary: 'End the session of the bearer token', response: { 200: Type.Object({ ok: Type.Boolean() }), ...errors(503) } } }, async (req) => {
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    const ended = token === undefined ? undefined : await deps.sessions.revoke(token);
    if (ended) audit({ ts: deps.now(), kind: 'logout', username: ended.username, address: req.ip });
    return { ok: true };
  });

  api.get('/api/audit/logins', {
    schema: {
      querystring: AccessQuery, tags: ['session'],
      summary: 'Logins, failed logins and logouts (with the client address) of the users under your jurisdiction, newest first (regulators only)',
      response: { 200: Type.Array(AccessEventSchema), ...errors(400, 401, 403, 503) },
    },
  }, async (req) => {
    const user = deps.userOf(req);
    if (user.role === 'enterprise') throw new HwError('HW_ERR_FORBIDDEN', 'the login audit is for regulators');
    const q = req.query as Static<typeof AccessQuery>;
    const to = q.to ?? deps.now();
    const { from } = checkRange(q.from ?? Math.max(0, to - 30 * 24 * 3600_000), to, { maxSpanMs: MAX_PERIOD_SPAN_MS });
    const reg = deps.registry.current;
    // A user is under the caller when their scope (a jurisdiction, or an enterprise's township) is in the caller's subtree.
    // Names that are no user (failed guesses) are shown to regulators of a whole tree (no parent) only.
    const root = !reg.jurisdictions.get(user.scope)?.parent;
    const under = (name: string) => {
      const u = reg.users.get(name);
      if (!u) return root;
      const j = u.role === 'enterprise' ? reg.enterprises.get(u.scope)?.township : u.scope;
      return j !== undefined && reg.ancestors(j).includes(user.scope);
    };
    const events = await deps.store.queryAccessEvents({ since: from, until: to, limit: MAX_PAGE_SIZE });
    return events.filter((e) => under(e.username)).slice(0, q.limit ?? 500);
  });

  api.get('/api/me', { schema: { tags: ['session'], summary: 'The logged-in user', response: { 200: UserSchema, ...errors(401) } } }, async (req) => publicUser(deps.userOf(req)));
}
