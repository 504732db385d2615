import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HwError } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Session, SessionStore } from './session-store.ts';

export interface SessionAuth {
  /** Looks up the session of `token` for `req`, once, before its handler (a route's own preHandler may call it). */
  lookUp(req: FastifyRequest, token: string | undefined): Promise<void>;
  /** The user of a request, from its session looked up before: HW_ERR_UNAUTHENTICATED without one. */
  userOf(req: FastifyRequest): UserDef;
}

export interface SessionAuthDeps {
  registry: RegistryHolder;
  sessions: SessionStore;
  /** The API's logger (a failure to end sessions after a reload is logged there). */
  log: Logger;
}

/**
 * Token -> session -> user for every request, and the session store's life with the app:
 * started when the app is ready, closed with it, and the sessions of users removed or
 * changed in the registry ended at each reload.
 */
export function registerSessionAuth(app: FastifyInstance, deps: SessionAuthDeps): SessionAuth {
  const { registry, sessions } = deps;
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
  const userOf = (req: FastifyRequest): UserDef => {
    const found = sessionOf.get(req);
    if (found && 'error' in found) throw found.error;
    const user = found?.session && registry.current.users.get(found.session.username);
    if (!user) throw new HwError('HW_ERR_UNAUTHENTICATED');
    return user;
  };

  // A user removed from the registry, or whose role, scope or password changed, is logged out.
  const onReload = (next: { users: ReadonlyMap<string, UserDef> }, previous: { users: ReadonlyMap<string, UserDef> }) => {
    sessions.endUsers((name) => {
      const now = next.users.get(name);
      const before = previous.users.get(name);
      return !now || !before || now.role !== before.role || now.scope !== before.scope || now.passwordHash !== before.passwordHash;
    }).catch((err: unknown) => deps.log.error({ err }, 'sessions of users removed or changed in the registry were not ended'));
  };
  registry.on('reload', onReload);
  app.addHook('onReady', () => sessions.start());
  app.addHook('onClose', async () => {
    registry.off('reload', onReload);
    await sessions.close();
  });
  return { lookUp, userOf };
}
