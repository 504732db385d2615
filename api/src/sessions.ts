import { randomBytes } from 'node:crypto';
import type { UserDef } from '../../core/src/registry.ts';

export interface Session {
  token: string;
  username: string;
  expiresAt: number;
}

/** Opaque random tokens that expire; held in memory (a restart logs everyone out). */
export function createSessions(ttlMs: number, now: () => number = Date.now) {
  const sessions = new Map<string, Session>();
  return {
    create(user: UserDef): Session {
      const s = { token: randomBytes(24).toString('base64url'), username: user.username, expiresAt: now() + ttlMs };
      sessions.set(s.token, s);
      return s;
    },
    get(token: string | undefined): Session | undefined {
      if (!token) return undefined;
      const s = sessions.get(token);
      if (!s) return undefined;
      if (s.expiresAt <= now()) {
        sessions.delete(token);
        return undefined;
      }
      return s;
    },
    revoke(token: string) {
      sessions.delete(token);
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
