import { createHash, randomBytes } from 'node:crypto';
import type { UserDef } from '../../core/src/registry.ts';

/** A login session as its holder sees it: the token is shown once, at login. */
export interface Session {
  token: string;
  username: string;
  expiresAt: number;
}

/**
 * A session that ended, as every replica learns of it: by the hash of its token (the
 * token itself never leaves the process that issued or was shown it).
 */
export interface EndedSession {
  tokenHash: string;
  username: string;
}

/**
 * Why a session ended: the user logged out, it expired, the user was removed or changed
 * in the registry, or the user opened more than MAX_SESSIONS_PER_USER and this was the oldest.
 */
export type SessionEndReason = 'logout' | 'expired' | 'user-removed' | 'too-many-sessions';

/**
 * Login sessions: opaque random tokens that expire. Every end of a session (logout,
 * expiry, the user's removal) reaches the `onEnd` listeners at the moment it happens, so
 * holders of long-lived connections (WebSockets) close them at once instead of at their
 * next heartbeat. Two implementations: in memory for one process (memory-sessions.ts),
 * in Redis for API replicas that accept each other's tokens (redis-sessions.ts).
 * A store whose backing service does not answer rejects with HW_ERR_STORE_UNAVAILABLE.
 */
export interface SessionStore {
  /** Subscribes to ends made elsewhere (nothing for the in-memory store). */
  start(): Promise<void>;
  create(user: UserDef): Promise<Session>;
  /** The live session of `token`; undefined for no token, a malformed one, or an ended one. */
  get(token: string | undefined): Promise<Session | undefined>;
  /** Ends the session (logout); the session it ended, or undefined when there was none. */
  revoke(token: string): Promise<EndedSession | undefined>;
  /** End every session of the users for whom `gone(username)` is true (removed or changed in the registry). */
  endUsers(gone: (username: string) => boolean): Promise<void>;
  onEnd(listener: (s: EndedSession, reason: SessionEndReason) => void): () => void;
  /** Ends no session; clears this process's timers and subscriptions (the app is closing). */
  close(): Promise<void>;
}

/**
 * Sessions one user may hold at once; the oldest ends when a login would exceed it. Each
 * holds state in the store, and logins are throttled per account only on failure, so
 * without a bound one account's successful logins grow the store without end.
 */
export const MAX_SESSIONS_PER_USER = 100;

/** newToken(): 24 random bytes (192 bits), base64url, so 32 characters. */
export const newToken = (): string => randomBytes(24).toString('base64url');
/** Longest token looked up; longer or non-base64url ones are refused before any store call. */
export const MAX_TOKEN_CHARS = 64;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]+$/;

export const isTokenShaped = (token: string | undefined): token is string =>
  typeof token === 'string' && token.length > 0 && token.length <= MAX_TOKEN_CHARS && TOKEN_SHAPE.test(token);

/**
 * SHA-256 of the token, hex: what a store keys sessions by and what an end is announced
 * with. Unsalted on purpose: tokens are 192 random bits, so no dictionary or brute force
 * reaches one from its hash, and every replica must compute the same key.
 */
export const tokenHash = (token: string): string => createHash('sha256').update(token).digest('hex');
