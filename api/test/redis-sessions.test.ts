import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { silentLogger } from '../../core/src/logger.ts';
import { buildRegistry, type RegistryHolder } from '../../core/src/registry.ts';
import { login, openSocket } from '../../test/clients.ts';
import { demo } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { startRedis, type TestRedis } from '../../test/redis.ts';
import type { HazardwatchApp } from '../src/app.ts';
import { createRedisSessions } from '../src/redis-sessions.ts';
import { tokenHash } from '../src/session-store.ts';
import { appOn, startStore, stopApp, type StoreFixture } from './app-fixture.ts';

/**
 * Sessions in Redis (issue 13): two API replicas, each with its own Redis client and its
 * own registry, on one real redis-server, accept each other's tokens; a logout or a
 * user's removal on one closes the WebSockets holding the token on the other (4401); the
 * token is never in Redis in clear; Redis down is a coded 503, never a 500 or a login.
 * Heartbeats once a minute: a close can only come from the session's end.
 */
const CHANNEL = 'hw:sessions:ended';

describe('sessions in Redis shared by two API replicas', () => {
  let server: TestRedis;
  let f: StoreFixture;
  const clients: Redis[] = [];
  const replicas: { hw: HazardwatchApp; port: number; registry: RegistryHolder; redis: Redis }[] = [];
  /** Every token issued in this file, to look for in Redis. */
  const issued: string[] = [];

  beforeAll(async () => {
    server = await startRedis();
    f = await startStore('hw-redis-sessions-');
    for (const registry of [f.registry, demo().registry]) {
      const redis = client();
      const sessions = createRedisSessions({ redis, ttlMs: 60_000, logger: silentLogger() });
      const hw = appOn(f, { registry, settings: { sessions, heartbeatMs: 60_000, loginThrottle: { perAccountPerMin: 100, perAddressPerMin: 100 } } });
      await hw.app.listen({ host: '127.0.0.1', port: 0 });
      replicas.push({ hw, port: (hw.app.server.address() as { port: number }).port, registry, redis });
    }
  });
  afterAll(async () => {
    await stopApp(f);
    for (const c of clients) c.disconnect();
    await server?.stop();
  });

  /** A client whose connection errors (Redis stopped on purpose below) are expected. */
  const client = () => {
    const redis = new Redis(server.url);
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  };
  const A = () => replicas[0]!;
  const B = () => replicas[1]!;
  const loginOn = async (r: { port: number }, username: string) => {
    const token = await login(r.port, username);
    issued.push(token);
    return token;
  };
  const me = (r: { port: number }, token: string) => fetch(`http://127.0.0.1:${r.port}/api/me`, { headers: { authorization: `Bearer ${token}` } });
  const logout = (r: { port: number }, token: string) => fetch(`http://127.0.0.1:${r.port}/api/logout`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  /** A socket that said hello, and its close (code and reason) once it comes. */
  const helloSocket = async (r: { port: number }, token: string) => {
    const sock = await openSocket(r.port, token);
    const closed = new Promise<{ code: number; reason: string }>((resolve) => sock.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    await waitFor(() => sock.messages.find((m) => m.type === 'hello'), { what: 'hello' });
    return { sock, closed };
  };
  /** Both replicas subscribed to the sessions channel (after a start or a Redis restart). */
  const bothSubscribed = () => waitFor(async () => {
    const [, n] = (await A().redis.pubsub('NUMSUB', CHANNEL)) as [string, number];
    return n === 2 || undefined;
  }, { what: 'two subscribers on the sessions channel' });

  it('accepts on one replica a token issued by the other, over HTTP and on the WebSocket', async () => {
    const token = await loginOn(A(), 'city');
    const res = await me(B(), token);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { username: string }).username).toBe('city');
    const { sock } = await helloSocket(B(), token);
    sock.close();
  });

  it('closes with 4401 a WebSocket on one replica when its session is logged out on the other, and both refuse the token', async () => {
    await bothSubscribed();
    const token = await loginOn(A(), 'district');
    const { closed } = await helloSocket(A(), token);
    expect((await logout(B(), token)).status).toBe(200);
    // Awaited without a clock (heartbeats are a minute apart): the test's timeout is the upper bound.
    expect(await closed).toEqual({ code: 4401, reason: 'session ended: logout' });
    expect((await me(A(), token)).status).toBe(401);
    expect((await me(B(), token)).status).toBe(401);
    // The logout is audited once, by the replica that ended it.
    const events = await f.store.queryAccessEvents({ since: 0, until: Date.now() + 1000, limit: 5000 });
    expect(events.filter((e) => e.kind === 'logout' && e.username === 'district')).toHaveLength(1);
  });

  it('ends the sessions of a user removed from one replica\'s registry on both replicas', async () => {
    await bothSubscribed();
    const token = await loginOn(B(), 'township');
    const onA = await helloSocket(A(), token);
    const onB = await helloSocket(B(), token);
    const before = A().registry.current;
    const file = structuredClone(before.file);
    // Only replica A reloads: B still lists the user, so B's socket can only close through Redis.
    A().registry.reload(buildRegistry({ ...file, users: file.users.filter((u) => u.username !== 'township') }, f.catalogue));
    try {
      expect(await onA.closed).toEqual({ code: 4401, reason: 'session ended: user-removed' });
      expect(await onB.closed).toEqual({ code: 4401, reason: 'session ended: user-removed' });
      expect(B().registry.current.users.has('township')).toBe(true);
      expect((await me(B(), token)).status).toBe(401);
    } finally {
      A().registry.reload(before);
    }
    expect((await me(A(), token)).status).toBe(401);
  });

  it('never holds a token in clear in Redis, keys nor values, nor announces one on the channel', async () => {
    await bothSubscribed();
    const live = await loginOn(A(), 'officer');
    const ended = await loginOn(B(), 'officer');
    const listener = client();
    const announced: string[] = [];
    listener.on('message', (_ch: string, text: string) => announced.push(text));
    await listener.subscribe(CHANNEL);
    expect((await logout(A(), ended)).status).toBe(200);
    await waitFor(() => announced.length > 0 || undefined, { what: 'the logout announced' });
    expect(announced.join('\n')).toContain(tokenHash(ended));

    const dump: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await A().redis.scan(cursor, 'COUNT', 100);
      cursor = next;
      for (const key of keys) {
        const type = await A().redis.type(key);
        const value = type === 'string' ? [await A().redis.get(key)] : type === 'zset' ? await A().redis.zrange(key, 0, -1) : type === 'set' ? await A().redis.smembers(key) : [`(${type})`];
        dump.push(key, ...value.map(String));
      }
    } while (cursor !== '0');
    // The live session is there, under its hash, and what it holds is the user and expiry.
    expect(dump).toContain(`hw:sessions:token:${tokenHash(live)}`);
    expect(JSON.parse((await A().redis.get(`hw:sessions:token:${tokenHash(live)}`))!)).toEqual({ username: 'officer', expiresAt: expect.any(Number) });
    expect(dump).not.toContain(`hw:sessions:token:${tokenHash(ended)}`);
    expect(issued.length).toBeGreaterThanOrEqual(5);
    const everything = [...dump, ...announced].join('\n');
    for (const token of issued) expect(everything).not.toContain(token);
    listener.disconnect();
  });

  // Last: it stops the shared redis-server (and starts it again).
  it('answers 503 HW_ERR_STORE_UNAVAILABLE, never 500 nor a login, while Redis is down; a socket gets the code and 1013; all well again once it is back', async () => {
    const token = await loginOn(A(), 'city');
    await server.kill();
    await waitFor(() => (A().redis.status !== 'ready' && B().redis.status !== 'ready') || undefined, { what: 'both clients see Redis gone' });
    for (const r of replicas) {
      for (const res of [await me(r, token), await logout(r, token), await fetch(`http://127.0.0.1:${r.port}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'city', password: 'hazardwatch' }) })]) {
        expect(res.status, res.url).toBe(503);
        expect(((await res.json()) as { code: string }).code, res.url).toBe('HW_ERR_STORE_UNAVAILABLE');
      }
      // No token, or one that cannot be a token, costs no Redis call: 401 as ever.
      expect((await fetch(`http://127.0.0.1:${r.port}/api/me`)).status).toBe(401);
      expect((await me(r, 'x'.repeat(65))).status).toBe(401);
      // Routes that need no session still answer.
      expect((await fetch(`http://127.0.0.1:${r.port}/api/health`)).status).toBe(200);
      const sock = await openSocket(r.port, token);
      const closed = new Promise<number>((resolve) => sock.ws.once('close', (code) => resolve(code)));
      expect(await closed).toBe(1013);
      expect(sock.messages.filter((m) => m.type !== 'error')).toEqual([]);
      expect(sock.messages.map((m) => m.type === 'error' && m.code)).toEqual(['HW_ERR_STORE_UNAVAILABLE']);
    }

    await server.restart();
    // Without persistence the sessions are gone: log in again; ends reach the other replica again.
    const again = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${B().port}/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'city', password: 'hazardwatch' }) });
      return res.status === 200 ? ((await res.json()) as { token: string }).token : undefined;
    }, { what: 'a login once Redis is back' });
    issued.push(again);
    await bothSubscribed();
    expect((await me(A(), again)).status).toBe(200);
    const { closed } = await helloSocket(A(), again);
    expect((await logout(B(), again)).status).toBe(200);
    expect((await closed).code).toBe(4401);
  });
});
