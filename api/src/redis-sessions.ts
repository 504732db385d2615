import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { HwError } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { UserDef } from '../../core/src/registry.ts';
import { OncePerWindow } from './once-per-window.ts';
import { isTokenShaped, MAX_SESSIONS_PER_USER, newToken, tokenHash, type EndedSession, type Session, type SessionEndReason, type SessionStore } from './session-store.ts';

export interface RedisSessionsOptions {
  /** A connected client (the caller owns it; close() leaves it open). Pub/sub uses a duplicate of it. */
  redis: Redis;
  /** Lifetime of a session, ms (the Redis key's PX). */
  ttlMs: number;
  /** Prefix of every key and of the channel; default `hw:sessions`. */
  keyPrefix?: string;
  logger: Logger;
  now?: () => number;
  /** Longest wait for Redis before a request fails with 503, ms; default 2000. */
  timeoutMs?: number;
  /** Default MAX_SESSIONS_PER_USER. */
  maxSessionsPerUser?: number;
  /** Sessions this replica arms expiry timers for, at most; default 10 000 (see below). */
  maxWatched?: number;
}

/** setTimeout holds at most 2^31-1 ms (about 24.8 days); longer waits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Longest end announcement read from the channel, characters, and most sessions in one. */
const MAX_ANNOUNCEMENT_CHARS = 256 * 1024;
const MAX_ANNOUNCED = 1000;
const REASONS: ReadonlySet<string> = new Set<SessionEndReason>(['logout', 'expired', 'user-removed', 'too-many-sessions']);
const HASH_SHAPE = /^[0-9a-f]{64}$/;
/** ioredis states in which the connection is known to be down: a command would only queue. */
const DOWN: ReadonlySet<string> = new Set(['reconnecting', 'close', 'end']);

// KEYS: token key, the user's sorted set (token hash by expiry), the set of users with sessions.
// ARGV: stored value, ttl ms, expiresAt, token hash, now, max per user, username, token key prefix.
// Drops the user's expired members, then the oldest beyond the bound (their keys too) before
// adding the new one, and returns the hashes of the sessions it ended. A member's score is
// expiresAt × 1000 plus a per-user sequence (mod 1000), so sessions created in the same
// ms are still ordered by creation (ties broke by hash, dropping a random one of them).
// The sets live as long as their newest session.
const CREATE_LUA = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local seq = redis.call('INCR', KEYS[2] .. ':seq') % 1000
redis.call('PEXPIRE', KEYS[2] .. ':seq', ARGV[2])
local score = tonumber(ARGV[3]) * 1000 + seq
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[5]) * 1000 + 999)
local over = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[6]) + 1
local dropped = {}
if over > 0 then
  dropped = redis.call('ZRANGE', KEYS[2], 0, over - 1)
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, over - 1)
  for _, h in ipairs(dropped) do redis.call('DEL', ARGV[8] .. h) end
end
redis.call('ZADD', KEYS[2], score, ARGV[4])
local newest = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], math.floor(tonumber(newest[2]) / 1000))
redis.call('SADD', KEYS[3], ARGV[7])
local left = redis.call('PTTL', KEYS[3])
if left < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[3], ARGV[2]) end
return dropped`;

// KEYS: the user's sorted set, the set of users. ARGV: username, token key prefix.
// Returns the hashes whose key this call deleted (another replica may have ended some first).
const END_USER_LUA = `
local ended = {}
for _, h in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('DEL', ARGV[2] .. h) == 1 then ended[#ended + 1] = h end
end
redis.call('DEL', KEYS[1], KEYS[1] .. ':seq')
redis.call('SREM', KEYS[2], ARGV[1])
return ended`;

interface Stored {
  username: string;
  expiresAt: number;
}
interface Announcement {
  origin: string;
  reason: SessionEndReason;
  ended: EndedSession[];
}

const parseStored = (raw: string): Stored | undefined => {
  try {
    const v = JSON.parse(raw) as Partial<Stored>;
    return typeof v.username === 'string' && Number.isFinite(v.expiresAt) ? { username: v.username, expiresAt: v.expiresAt! } : undefined;
  } catch {
    return undefined;
  }
};

/** An announcement from the channel, checked: anything with access to Redis can publish there. */
const parseAnnouncement = (text: string): Announcement | undefined => {
  if (text.length > MAX_ANNOUNCEMENT_CHARS) return undefined;
  try {
    const v = JSON.parse(text) as Partial<Announcement>;
    if (typeof v.origin !== 'string' || typeof v.reason !== 'string' || !REASONS.has(v.reason) || !Array.isArray(v.ended) || v.ended.length > MAX_ANNOUNCED) return undefined;
    const ended = v.ended.filter((e): e is EndedSession => typeof e?.tokenHash === 'string' && HASH_SHAPE.test(e.tokenHash) && typeof e.username === 'string');
    return { origin: v.origin, reason: v.reason, ended };
  } catch {
    return undefined;
  }
};

/**
 * Sessions in Redis, so any API replica accepts a token any other issued, and an API
 * restart logs no one out. Keys (prefix `hw:sessions`):
 *
 * - `<prefix>:token:<sha256 of the token>` → `{username, expiresAt}`, PX the TTL: an
 *   expired session is simply not found. The token itself is never stored.
 * - `<prefix>:user:<username>`: sorted set of the user's token hashes by expiry, at most
 *   `maxSessionsPerUser` (the oldest ends first), so a user's removal ends all of them.
 * - `<prefix>:users`: the users holding sessions (at most the registry's users: only they log in).
 *
 * Ends (logout, a user's removal, the per-user bound) are announced by token hash on the
 * channel `<prefix>:ended`; every replica's `onEnd` listeners hear them (this one's at
 * once, the others' as Redis delivers them). Expiry is not announced: each replica arms
 * a timer for the sessions it has seen in use (`get`), which includes every session one
 * of its WebSockets holds, at most `maxWatched` of them, the least recently used
 * forgotten first (logged). Pub/sub delivers at most once: a replica that is
 * disconnected from Redis when an end is announced keeps that session's sockets open
 * until its timer ends them at expiry; HTTP requests are refused at once, the key being gone.
 *
 * A Redis that does not answer (down, or slower than `timeoutMs`) is HW_ERR_STORE_UNAVAILABLE,
 * a 503: never taken for "no session" by a caller, and never for a session.
 */
export function createRedisSessions(o: RedisSessionsOptions): SessionStore {
  const { redis, ttlMs } = o;
  const now = o.now ?? Date.now;
  const prefix = o.keyPrefix ?? 'hw:sessions';
  const timeoutMs = o.timeoutMs ?? 2000;
  const maxPerUser = o.maxSessionsPerUser ?? MAX_SESSIONS_PER_USER;
  const maxWatched = o.maxWatched ?? 10_000;
  const tokenPrefix = `${prefix}:token:`;
  const userKey = (username: string) => `${prefix}:user:${username}`;
  const usersKey = `${prefix}:users`;
  const channel = `${prefix}:ended`;
  /** Names this store's announcements, which it has already delivered to its own listeners. */
  const origin = randomUUID();
  const log = o.logger.child({ module: 'sessions' });
  /** A Redis outage fails every request: one log line a minute per kind of failure. */
  const onceAMinute = new OncePerWindow(60_000);
  const events = new EventEmitter<{ end: [EndedSession, SessionEndReason] }>();
  const watched = new Map<string, Stored & { timer: NodeJS.Timeout }>();
  let forgotten = 0;
  let subscriber: Redis | undefined;

  const unavailable = (what: string, err: unknown): HwError => {
    if (onceAMinute.first(`unavailable:${what}`)) log.warn({ err: (err as Error)?.message, what }, 'session store (redis) did not answer: requests that need a session are refused with 503');
    return new HwError('HW_ERR_STORE_UNAVAILABLE', 'the session store (redis) did not answer');
  };
  /** One Redis call, bounded in time; its failure is HW_ERR_STORE_UNAVAILABLE. */
  async function call<T>(what: string, run: () => Promise<T>): Promise<T> {
    // Queued while the connection is down, a command would wait for the client's whole retry budget.
    if (DOWN.has(redis.status)) throw unavailable(what, new Error(`redis connection is ${redis.status}`));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([run(), deadline]);
    } catch (err) {
      throw unavailable(what, err);
    } finally {
      clearTimeout(timer);
    }
  }

  const unwatch = (hash: string) => {
    const w = watched.get(hash);
    if (!w) return;
    clearTimeout(w.timer);
    watched.delete(hash);
  };
  const emitEnd = (ended: EndedSession, reason: SessionEndReason) => {
    unwatch(ended.tokenHash);
    events.emit('end', ended, reason);
  };
  const arm = (hash: string, expiresAt: number): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      const w = watched.get(hash);
      if (!w) return;
      if (w.expiresAt <= now()) emitEnd({ tokenHash: hash, username: w.username }, 'expired');
      else w.timer = arm(hash, w.expiresAt);
    }, Math.min(Math.max(0, expiresAt - now()), MAX_TIMER_MS));
    timer.unref();
    return timer;
  };
  const watch = (hash: string, s: Stored) => {
    const cur = watched.get(hash);
    if (cur) {
      // Most recently used last: the first in the map is the one forgotten.
      watched.delete(hash);
      watched.set(hash, cur);
      return;
    }
    while (watched.size >= maxWatched) {
      const [oldest] = watched.keys();
      unwatch(oldest!);
      forgotten++;
      if (onceAMinute.first('forgotten')) log.warn({ maxWatched, forgotten }, 'more sessions in use here than expiry timers: the least recently used session will not close its sockets at expiry');
    }
    watched.set(hash, { ...s, timer: arm(hash, s.expiresAt) });
  };

  /** To this replica's listeners at once, and to the others' through the channel (a failure there is logged). */
  const announce = async (ended: EndedSession[], reason: SessionEndReason) => {
    for (const e of ended) emitEnd(e, reason);
    for (let i = 0; i < ended.length; i += MAX_ANNOUNCED) {
      const message: Announcement = { origin, reason, ended: ended.slice(i, i + MAX_ANNOUNCED) };
      await call('announce', () => redis.publish(channel, JSON.stringify(message))).catch(() => undefined);
    }
  };
  const receive = (text: string) => {
    const a = parseAnnouncement(text);
    if (!a) {
      if (onceAMinute.first('bad-announcement')) log.warn({ channel }, 'ignored a message on the sessions channel that is not an end announcement');
      return;
    }
    if (a.origin === origin) return;
    for (const e of a.ended) emitEnd(e, a.reason);
  };
  const hashesOf = (reply: unknown): string[] => (Array.isArray(reply) ? reply.filter((h): h is string => typeof h === 'string') : []);

  return {
    async start() {
      if (subscriber) return;
      const sub = (subscriber = redis.duplicate({ autoResubscribe: false }));
      sub.on('message', (ch: string, text: string) => {
        if (ch === channel) receive(text);
      });
      sub.on('error', (err: Error) => {
        if (onceAMinute.first('subscriber')) log.warn({ err: err.message }, 'sessions channel connection failed; ends announced meanwhile by other replicas are missed');
      });
      // (Re)subscribed on every connect, also one that first succeeds after start() gave up waiting.
      let subscribed: () => void = () => undefined;
      const first = new Promise<boolean>((resolve) => {
        subscribed = () => resolve(true);
        setTimeout(() => resolve(false), timeoutMs).unref();
      });
      const subscribe = () => void sub.subscribe(channel).then(subscribed, (err: Error) => log.warn({ err: err.message, channel }, 'could not subscribe to the sessions channel'));
      sub.on('ready', subscribe);
      // A duplicate of a lazyConnect client waits for a first command, which 'ready' would send.
      if (sub.status === 'wait') sub.connect().catch(() => undefined);
      if (!(await first)) log.warn({ channel, timeoutMs }, 'not yet subscribed to the sessions channel (redis does not answer); will subscribe when it does');
    },

    async create(user: UserDef): Promise<Session> {
      const token = newToken();
      const hash = tokenHash(token);
      const t = now();
      const s: Stored = { username: user.username, expiresAt: t + ttlMs };
      const dropped = await call('create', () =>
        redis.eval(CREATE_LUA, 3, tokenPrefix + hash, userKey(s.username), usersKey, JSON.stringify(s), String(ttlMs), String(s.expiresAt), hash, String(t), String(maxPerUser), s.username, tokenPrefix));
      const ended = hashesOf(dropped).map((h) => ({ tokenHash: h, username: s.username }));
      if (ended.length > 0) await announce(ended, 'too-many-sessions');
      return { token, ...s };
    },

    async get(token) {
      // A malformed or over-long token costs no Redis call.
      if (!isTokenShaped(token)) return undefined;
      const hash = tokenHash(token);
      const raw = await call('get', () => redis.get(tokenPrefix + hash));
      const s = raw === null ? undefined : parseStored(raw);
      if (raw !== null && !s && onceAMinute.first('bad-value')) log.warn({ key: tokenPrefix + hash }, 'a session value in redis is not {username, expiresAt}: refused');
      if (!s || s.expiresAt <= now()) return undefined;
      watch(hash, s);
      return { token, ...s };
    },

    async revoke(token) {
      if (!isTokenShaped(token)) return undefined;
      const hash = tokenHash(token);
      // GETDEL: of two replicas revoking at once, one ends the session and announces it.
      const raw = await call('revoke', () => redis.getdel(tokenPrefix + hash));
      const s = raw === null ? undefined : parseStored(raw);
      if (!s) return undefined;
      // A member left behind (on failure) only points at a deleted key; the set expires with its newest session.
      await call('revoke', () => redis.zrem(userKey(s.username), hash)).catch(() => undefined);
      const ended = { tokenHash: hash, username: s.username };
      await announce([ended], 'logout');
      return ended;
    },

    async endUsers(gone) {
      const users = await call('endUsers', () => redis.smembers(usersKey));
      for (const username of users) {
        if (!gone(username)) continue;
        const reply = await call('endUsers', () => redis.eval(END_USER_LUA, 2, userKey(username), usersKey, username, tokenPrefix));
        // Sessions another replica ended first (its registry reloaded too) were announced by it.
        await announce(hashesOf(reply).map((h) => ({ tokenHash: h, username })), 'user-removed');
      }
    },

    onEnd(listener) {
      events.on('end', listener);
      return () => events.off('end', listener);
    },

    async close() {
      for (const w of watched.values()) clearTimeout(w.timer);
      watched.clear();
      subscriber?.disconnect();
      subscriber = undefined;
    },
  };
}
