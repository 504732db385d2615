import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { UserDef } from '../../core/src/registry.ts';

export interface Session {
  token: string;
  username: string;
  expiresAt: number;
}

/** Why a session ended: the user logged out, it expired, or the user was removed or changed in the registry. */
export type SessionEndReason = 'logout' | 'expired' | 'user-removed';

/** setTimeout holds at most 2^31-1 ms (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Opaque random tokens that expire; held in memory (a restart logs everyone out).
 * Every end of a session (logout, expiry, the user's removal) is an `end` event at the
 * moment it happens, so holders of long-lived connections (WebSockets) close them at once
 * instead of at their next heartbeat.
 */
export function createSessions(ttlMs: number, now: () => number = Date.now) {
  const sessions = new Map<string, { session: Session; timer: NodeJS.Timeout }>();
  const events = new EventEmitter<{ end: [Session, SessionEndReason] }>();
  // One listener per open WebSocket.
  events.setMaxListeners(0);

  const end = (token: string, reason: SessionEndReason) => {
    const entry = sessions.get(token);
    if (!entry) return;
    clearTimeout(entry.timer);
    sessions.delete(token);
    events.emit('end', entry.session, reason);
  };
  const arm = (token: string, expiresAt: number): NodeJS.Timeout => {
    const wait = Math.max(0, expiresAt - now());
    const timer = setTimeout(() => {
      const entry = sessions.get(token);
      if (!entry) return;
      if (entry.session.expiresAt <= now()) end(token, 'expired');
      else entry.timer = arm(token, entry.session.expiresAt);
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    return timer;
  };

  return {
    create(user: UserDef): Session {
      const session = { token: randomBytes(24).toString('base64url'), username: user.username, expiresAt: now() + ttlMs };
      sessions.set(session.token, { session, timer: arm(session.token, session.expiresAt) });
      return session;
    },
    get(token: string | undefined): Session | undefined {
      if (!token) return undefined;
      const entry = sessions.get(token);
      if (!entry) return undefined;
      if (entry.session.expiresAt <= now()) {
        end(token, 'expired');
        return undefined;
      }
      return entry.session;
    },
    revoke(token: string) {
      end(token, 'logout');
    },
    /** End every session of the users for whom `gone(username)` is true (removed or changed in the registry). */
    endUsers(gone: (username: string) => boolean) {
      for (const [token, { session }] of [...sessions]) if (gone(session.username)) end(token, 'user-removed');
    },
    onEnd(listener: (s: Session, reason: SessionEndReason) => void): () => void {
      events.on('end', listener);
      return () => events.off('end', listener);
    },
    /** Ends nothing; clears the timers (the app is closing). */
    close() {
      for (const { timer } of sessions.values()) clearTimeout(timer);
    },
    size: () => sessions.size,
  };
}

export type Sessions = ReturnType<typeof createSessions>;
