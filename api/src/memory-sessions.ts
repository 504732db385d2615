import { EventEmitter } from 'node:events';
import type { UserDef } from '../../core/src/registry.ts';
import { isTokenShaped, MAX_SESSIONS_PER_USER, newToken, tokenHash, type EndedSession, type Session, type SessionEndReason, type SessionStore } from './session-store.ts';

/** setTimeout holds at most 2^31-1 ms (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

interface Entry {
  session: Session;
  timer: NodeJS.Timeout;
}

/**
 * Sessions held in this process (`npm start`, one API): a restart logs everyone out, and
 * another process does not know the tokens. Each session has its own expiry timer.
 */
export function createMemorySessions(ttlMs: number, now: () => number = Date.now): SessionStore {
  /** By token hash, as the Redis store keys them. */
  const sessions = new Map<string, Entry>();
  /** Token hashes of each user, oldest first (insertion order), for the per-user bound. */
  const byUser = new Map<string, Set<string>>();
  const events = new EventEmitter<{ end: [EndedSession, SessionEndReason] }>();
  // One listener per open WebSocket.
  events.setMaxListeners(0);

  const end = (hash: string, reason: SessionEndReason): EndedSession | undefined => {
    const entry = sessions.get(hash);
    if (!entry) return undefined;
    clearTimeout(entry.timer);
    sessions.delete(hash);
    const mine = byUser.get(entry.session.username);
    if (mine?.delete(hash) && mine.size === 0) byUser.delete(entry.session.username);
    const ended = { tokenHash: hash, username: entry.session.username };
    events.emit('end', ended, reason);
    return ended;
  };
  const arm = (hash: string, expiresAt: number): NodeJS.Timeout => {
    const wait = Math.max(0, expiresAt - now());
    const timer = setTimeout(() => {
      const entry = sessions.get(hash);
      if (!entry) return;
      if (entry.session.expiresAt <= now()) end(hash, 'expired');
      else entry.timer = arm(hash, entry.session.expiresAt);
    }, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
    return timer;
  };
  /** The entry of a live session; an expired one whose timer has not fired yet is ended here. */
  const live = (token: string | undefined): [string, Entry] | undefined => {
    if (!isTokenShaped(token)) return undefined;
    const hash = tokenHash(token);
    const entry = sessions.get(hash);
    if (!entry) return undefined;
    if (entry.session.expiresAt <= now()) {
      end(hash, 'expired');
      return undefined;
    }
    return [hash, entry];
  };

  return {
    async start() {},
    async create(user: UserDef) {
      const session = { token: newToken(), username: user.username, expiresAt: now() + ttlMs };
      const hash = tokenHash(session.token);
      sessions.set(hash, { session, timer: arm(hash, session.expiresAt) });
      let mine = byUser.get(user.username);
      if (!mine) byUser.set(user.username, (mine = new Set()));
      mine.add(hash);
      while (mine.size > MAX_SESSIONS_PER_USER) end(mine.values().next().value!, 'too-many-sessions');
      return session;
    },
    async get(token) {
      return live(token)?.[1].session;
    },
    async revoke(token) {
      const found = live(token);
      return found && end(found[0], 'logout');
    },
    async endUsers(gone) {
      for (const [hash, { session }] of [...sessions]) if (gone(session.username)) end(hash, 'user-removed');
    },
    onEnd(listener) {
      events.on('end', listener);
      return () => events.off('end', listener);
    },
    async close() {
      for (const { timer } of sessions.values()) clearTimeout(timer);
    },
  };
}
