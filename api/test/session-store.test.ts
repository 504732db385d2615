import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { silentLogger } from '../../core/src/logger.ts';
import type { UserDef } from '../../core/src/registry.ts';
import { demo } from '../../test/fixtures.ts';
import { startRedis, type TestRedis } from '../../test/redis.ts';
import { createMemorySessions } from '../src/memory-sessions.ts';
import { createRedisSessions } from '../src/redis-sessions.ts';
import { MAX_SESSIONS_PER_USER, MAX_TOKEN_CHARS, tokenHash, type EndedSession, type SessionEndReason, type SessionStore } from '../src/session-store.ts';

/**
 * The session store contract, run on both implementations: in memory (`npm start`) and
 * in Redis (API replicas), the latter against a real redis-server. Two stores of one kind
 * stand for two replicas (they share the process for the memory kind, which is enough to
 * run the same assertions; only Redis shares sessions across them).
 */
type Ends = { ended: EndedSession; reason: SessionEndReason }[];
interface Kind {
  name: string;
  /** A store (started) with this TTL, ms; for Redis each on its own client, sharing one server. */
  make(ttlMs: number): Promise<SessionStore>;
}

let server: TestRedis;
const clients: Redis[] = [];
const stores: SessionStore[] = [];
const { registry } = demo();
const user = (name: string): UserDef => registry.current.users.get(name)!;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  for (const s of stores) await s.close();
  for (const c of clients) c.disconnect();
  await server?.stop();
});

const kinds: Kind[] = [
  {
    name: 'memory',
    async make(ttlMs) {
      const s = createMemorySessions(ttlMs);
      await s.start();
      stores.push(s);
      return s;
    },
  },
  {
    name: 'redis',
    async make(ttlMs) {
      const redis = new Redis(server.url);
      clients.push(redis);
      // A prefix per store pair would isolate tests; one shared prefix is what replicas use.
      const s = createRedisSessions({ redis, ttlMs, logger: silentLogger() });
      await s.start();
      stores.push(s);
      return s;
    },
  },
];

const recorder = (s: SessionStore): Ends => {
  const ends: Ends = [];
  s.onEnd((ended, reason) => ends.push({ ended, reason }));
  return ends;
};
/** Resolves with the first end of `hash` the store reports (count-driven: no clock). */
const nextEnd = (s: SessionStore, hash: string) =>
  new Promise<SessionEndReason>((resolve) => {
    const off = s.onEnd((ended, reason) => {
      if (ended.tokenHash !== hash) return;
      off();
      resolve(reason);
    });
  });

describe.each(kinds)('session store contract: $name', (kind) => {
  it('creates a session that get finds; logout ends it once, reported by token hash', async () => {
    const s = await kind.make(60_000);
    const ends = recorder(s);
    const created = await s.create(user('city'));
    expect(created.username).toBe('city');
    expect(await s.get(created.token)).toMatchObject({ token: created.token, username: 'city', expiresAt: created.expiresAt });
    expect(await s.revoke(created.token)).toEqual({ tokenHash: tokenHash(created.token), username: 'city' });
    expect(ends).toEqual([{ ended: { tokenHash: tokenHash(created.token), username: 'city' }, reason: 'logout' }]);
    expect(await s.get(created.token)).toBeUndefined();
    expect(await s.revoke(created.token)).toBeUndefined();
    expect(ends).toHaveLength(1);
  });

  it('refuses no token, an empty one, an over-long one and one outside base64url', async () => {
    const s = await kind.make(60_000);
    const { token } = await s.create(user('city'));
    for (const bad of [undefined, '', 'a'.repeat(MAX_TOKEN_CHARS + 1), `${token}!`, `${token.slice(0, -1)} `]) expect(await s.get(bad), String(bad)).toBeUndefined();
    expect(await s.revoke('a'.repeat(MAX_TOKEN_CHARS + 1))).toBeUndefined();
  });

  it('ends the sessions of the users endUsers names, and only theirs', async () => {
    const s = await kind.make(60_000);
    const ends = recorder(s);
    const t1 = await s.create(user('township'));
    const t2 = await s.create(user('township'));
    const other = await s.create(user('district'));
    await s.endUsers((name) => name === 'township');
    expect(ends.filter((e) => e.reason === 'user-removed').map((e) => e.ended.tokenHash).sort()).toEqual([tokenHash(t1.token), tokenHash(t2.token)].sort());
    expect(await s.get(t1.token)).toBeUndefined();
    expect(await s.get(t2.token)).toBeUndefined();
    expect(await s.get(other.token)).toMatchObject({ username: 'district' });
  });

  it(`holds at most ${MAX_SESSIONS_PER_USER} sessions per user: a login beyond ends the oldest`, async () => {
    const s = await kind.make(60_000);
    const ends = recorder(s);
    const tokens: string[] = [];
    for (let i = 0; i < MAX_SESSIONS_PER_USER + 1; i++) tokens.push((await s.create(user('officer'))).token);
    expect(ends).toEqual([{ ended: { tokenHash: tokenHash(tokens[0]!), username: 'officer' }, reason: 'too-many-sessions' }]);
    expect(await s.get(tokens[0])).toBeUndefined();
    expect(await s.get(tokens[1])).toMatchObject({ username: 'officer' });
    expect(await s.get(tokens.at(-1))).toMatchObject({ username: 'officer' });
    await s.endUsers((name) => name === 'officer');
    expect(ends.filter((e) => e.reason === 'user-removed')).toHaveLength(MAX_SESSIONS_PER_USER);
  });

  it('reports expiry to a store that has seen the session in use, and get misses it after', async () => {
    const ttlMs = 300;
    const issuer = await kind.make(ttlMs);
    const replica = kind.name === 'redis' ? await kind.make(ttlMs) : issuer;
    const { token } = await issuer.create(user('district'));
    const expired = nextEnd(replica, tokenHash(token));
    expect(await replica.get(token)).toMatchObject({ username: 'district' });
    expect(await expired).toBe('expired');
    expect(await replica.get(token)).toBeUndefined();
    expect(await issuer.get(token)).toBeUndefined();
  });
});

describe('redis session store when Redis does not answer', () => {
  it('rejects with HW_ERR_STORE_UNAVAILABLE after its timeout, never resolving to "no session" or a session; a malformed token is still no session', async () => {
    // A server that accepts the connection and never answers: every command waits, none fails on its own.
    const silent = createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const redis = new Redis((silent.address() as AddressInfo).port, '127.0.0.1');
    redis.on('error', () => undefined);
    clients.push(redis);
    try {
      const s = createRedisSessions({ redis, ttlMs: 60_000, logger: silentLogger(), timeoutMs: 200 });
      stores.push(s);
      await s.start();
      const token = 'a'.repeat(32);
      await expect(s.get(token)).rejects.toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE', statusCode: 503 });
      await expect(s.revoke(token)).rejects.toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE' });
      await expect(s.create(user('city'))).rejects.toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE' });
      await expect(s.endUsers(() => true)).rejects.toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE' });
      expect(await s.get('x'.repeat(MAX_TOKEN_CHARS + 1))).toBeUndefined();
    } finally {
      redis.disconnect();
      silent.close();
    }
  });
});
