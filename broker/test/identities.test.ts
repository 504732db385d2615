import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { silentLogger } from '../../core/src/logger.ts';
import { waitFor } from '../../test/ports.ts';
import { startRedis } from '../../test/redis.ts';
import { AuthThrottle } from '../src/auth-throttle.ts';
import { createBroker, type Broker, type Presence } from '../src/broker.ts';
import { createRedisClientIds } from '../src/client-ids.ts';
import { brokerConfig as base, codeOf, connect, gw, smallRegistry, startBroker } from './fixtures.ts';
/** Whether the client's connection closes within `ms`. */
const closesWithin = (c: MqttClient, ms: number) => new Promise<boolean>((r) => {
  const t = setTimeout(() => r(false), ms);
  c.once('close', () => (clearTimeout(t), r(true)));
});
const will = (e: string, g: string) => ({ will: { topic: `hw/v1/${e}/${g}/status`, payload: Buffer.from('offline'), qos: 1 as const, retain: true } });

describe('broker: client ids belong to identities', () => {
  let broker: Broker;
  const presence: Presence[] = [];
  beforeAll(async () => {
    ({ broker } = await startBroker({ onPresence: (p) => presence.push(p) }, { maxPersistentSessionsPerGateway: 3 }));
  });
  afterAll(async () => broker?.stop());

  it('refuses a gateway connecting as hw-ingest (service ids are reserved) and leaves the worker connected', async () => {
    const worker = await connect(broker.port(), 'svc', 'svc-secret', { clientId: 'hw-ingest', clean: false });
    await worker.subscribeAsync('hw/v1/+/+/up', { qos: 1 });
    const workerClosed = closesWithin(worker, 1500);
    expect(await codeOf(gw(broker.port(), 'a', 'g1', { clientId: 'hw-ingest', clean: false }))).toBe(2);
    expect(await codeOf(gw(broker.port(), 'a', 'g1', { clientId: 'hw-ingest-1of2' }))).toBe(2);
    expect(await workerClosed).toBe(false);
    // The worker still receives readings.
    const got = new Promise<string>((r) => worker.once('message', (_t, p) => r(p.toString())));
    const g = await gw(broker.port(), 'a', 'g1');
    await g.publishAsync('hw/v1/a/g1/up', 'still mine', { qos: 1 });
    expect(await got).toBe('still mine');
    expect(broker.counters.refused.client_id_reserved).toBe(2);
    await g.endAsync();
    await worker.endAsync();
  });

  it('refuses another enterprise’s gateway taking a connected gateway’s client id: the victim stays connected and no offline will fires', async () => {
    const victim = await gw(broker.port(), 'a', 'g2', { clientId: 'plant-gateway', ...will('a', 'g2') });
    await victim.publishAsync('hw/v1/a/g2/status', 'online', { qos: 1, retain: true });
    presence.length = 0;
    const victimClosed = closesWithin(victim, 1500);
    expect(await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'plant-gateway' }))).toBe(2);
    expect(await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'plant-gateway', clean: false }))).toBe(2);
    expect(await victimClosed).toBe(false);
    expect(presence.filter((p) => p.enterpriseId === 'a' && p.gatewayId === 'g2' && !p.online)).toEqual([]);
    expect(broker.counters.refused.client_id_taken).toBe(2);
    // The same gateway may take its own id over (a reconnect), as MQTT intends.
    const again = await gw(broker.port(), 'a', 'g2', { clientId: 'plant-gateway' });
    await again.endAsync();
    victim.end(true);
  });

  it('refuses another identity a stored session’s client id, while its owner gets the session back', async () => {
    const owner = await gw(broker.port(), 'b', 'g2', { clientId: 'b-g2-persistent', clean: false });
    await owner.subscribeAsync('hw/v1/b/g2/down/#', { qos: 1 });
    await owner.endAsync();
    expect(await codeOf(gw(broker.port(), 'a', 'g1', { clientId: 'b-g2-persistent', clean: false }))).toBe(2);
    expect(await codeOf(gw(broker.port(), 'a', 'g1', { clientId: 'b-g2-persistent', clean: true }))).toBe(2);
    expect(await codeOf(connect(broker.port(), 'svc', 'svc-secret', { clientId: 'b-g2-persistent' }))).toBe(2);
    const back = mqtt.connect(`mqtt://127.0.0.1:${broker.port()}`, { username: 'b/g2', password: 'b-g2-secret', clientId: 'b-g2-persistent', clean: false, reconnectPeriod: 0 });
    const connack = await new Promise<{ sessionPresent: boolean }>((r) => back.once('connect', r));
    expect(connack.sessionPresent).toBe(true);
    // Its subscription survived: a command reaches it.
    const got = new Promise<string>((r) => back.once('message', (_t, p) => r(p.toString())));
    const svc = await connect(broker.port(), 'svc', 'svc-secret');
    await svc.publishAsync('hw/v1/b/g2/down/cmd', 'reboot', { qos: 1 });
    expect(await got).toBe('reboot');
    await svc.endAsync();
    await back.endAsync();
  });

  it('bounds the persistent sessions of one gateway; a clean connect ends one and frees its place', async () => {
    for (const n of [1, 2, 3]) await (await gw(broker.port(), 'b', 'g1', { clientId: `b-g1-p${n}`, clean: false })).endAsync();
    expect(await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'b-g1-p4', clean: false }))).toBe(5);
    expect(broker.counters.refused.persistent_session_limit).toBe(1);
    // Clean sessions are not limited.
    expect(await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'b-g1-c1' }))).toBe(0);
    // Reconnecting an existing persistent id is not a new session.
    expect(await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'b-g1-p2', clean: false }))).toBe(0);
    // A clean connect with p1 ends that stored session, and with it the claim.
    expect(await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'b-g1-p1', clean: true }))).toBe(0);
    await waitFor(async () => (await codeOf(gw(broker.port(), 'b', 'g1', { clientId: 'b-g1-p4', clean: false }))) === 0 || undefined, { what: 'p4 admitted', timeoutMs: 3000 });
    // And p1, no longer anyone's, may now be taken by another gateway.
    expect(await codeOf(gw(broker.port(), 'a', 'g1', { clientId: 'b-g1-p1' }))).toBe(0);
  });
});

describe('broker: login throttling per address and per account', () => {
  let broker: Broker;
  beforeAll(async () => {
    ({ broker } = await startBroker({}, { authFailLimit: 3, authFailLimitPerAccount: 2, authBlockS: 60 }));
  });
  afterAll(async () => broker?.stop());

  it('does not reset an address’s failures when it logs in with another account’s credentials', async () => {
    // a/g1 logs in once from here: 127.0.0.1 becomes one of its known addresses.
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(0);
    expect(await codeOf(connect(broker.port(), 'a/g2', 'guess-1'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'b/g2', 'guess-2'))).toBe(4);
    // The attacker's own gateway logs in between guesses...
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(0);
    // ...and the third guess still blocks the address.
    expect(await codeOf(connect(broker.port(), 'nobody/x', 'guess-3'))).toBe(4);
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(3);
    expect(broker.counters.refused.throttled).toBeGreaterThanOrEqual(1);
  });

  it('unit: a success clears only that account’s failures at that address', () => {
    const t = new AuthThrottle({ perAddressLimit: 3, perAccountLimit: 100, blockMs: 60_000 });
    t.failed('10.0.0.1', 'a/g1', 0);
    t.failed('10.0.0.1', 'a/g1', 1);
    t.succeeded('10.0.0.1', 'a/g1', 2); // the gateway fixed its typo
    t.failed('10.0.0.1', 'a/g1', 3);
    t.failed('10.0.0.1', 'b/g1', 4);
    expect(t.check('10.0.0.1', 'a/g1', 5)).toBeUndefined();
    t.succeeded('10.0.0.1', 'b/g1', 6); // clears b/g1's failure only
    t.failed('10.0.0.1', undefined, 7);
    expect(t.check('10.0.0.1', 'a/g1', 8)).toBeUndefined();
    t.failed('10.0.0.1', undefined, 9);
    expect(t.check('10.0.0.1', 'a/g1', 10)).toBe('address');
    expect(t.check('10.0.0.1', 'a/g1', 60_010)).toBeUndefined();
  });

  it('unit: guesses for one account from many addresses lock it for new addresses, not for the ones it logged in from', () => {
    const t = new AuthThrottle({ perAddressLimit: 5, perAccountLimit: 3, blockMs: 60_000 });
    t.succeeded('10.0.0.9', 'a/g1', 0); // the gateway's own address
    for (let i = 1; i <= 3; i++) t.failed(`192.0.2.${i}`, 'a/g1', i);
    expect(t.check('192.0.2.77', 'a/g1', 10)).toBe('account');
    expect(t.check('10.0.0.9', 'a/g1', 10)).toBeUndefined();
    expect(t.check('192.0.2.77', 'a/g2', 10)).toBeUndefined();
    expect(t.check('192.0.2.77', 'a/g1', 60_004)).toBeUndefined();
    // Unknown usernames are counted per address only: they create no account entries.
    for (let i = 0; i < 1000; i++) t.failed('198.51.100.1', undefined, 70_000);
    expect(t.check('198.51.100.1', undefined, 70_001)).toBe('address');
  });
});

describe('broker: per-account lockout over MQTT', () => {
  let broker: Broker;
  beforeAll(async () => {
    ({ broker } = await startBroker({}, { authFailLimit: 10, authFailLimitPerAccount: 2, authBlockS: 60 }));
  });
  afterAll(async () => broker?.stop());

  it('locks an account after its failure limit for addresses it never logged in from, but not for a known one', async () => {
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(0);
    expect(await codeOf(connect(broker.port(), 'a/g1', 'guess'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'a/g1', 'guess'))).toBe(4);
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(0); // 127.0.0.1 is a known address of a/g1
    expect(await codeOf(connect(broker.port(), 'b/g2', 'guess'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'b/g2', 'guess'))).toBe(4);
    expect(await codeOf(gw(broker.port(), 'b', 'g2'))).toBe(3); // b/g2 never logged in from here
    expect(broker.counters.refused.throttled_account).toBe(1);
  });
});

describe('broker cluster: client ids belong to identities across nodes', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let a: Broker;
  let b: Broker;
  const presence: Presence[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    const fx = await smallRegistry();
    a = createBroker({ registry: fx.holder, logger: silentLogger(), onPresence: (p) => presence.push(p) }, { ...base, redisUrl: redis.url, maxPersistentSessionsPerGateway: 2 });
    b = createBroker({ registry: fx.holder, logger: silentLogger(), onPresence: (p) => presence.push(p) }, { ...base, redisUrl: redis.url, maxPersistentSessionsPerGateway: 2 });
    await a.start();
    await b.start();
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('refuses a gateway on node B taking the client id of a gateway connected to node A; the victim stays connected', async () => {
    const victim = await gw(a.port(), 'a', 'g1', { clientId: 'field-unit-7', ...will('a', 'g1') });
    await victim.publishAsync('hw/v1/a/g1/status', 'online', { qos: 1, retain: true });
    presence.length = 0;
    const victimClosed = closesWithin(victim, 2000);
    expect(await codeOf(gw(b.port(), 'b', 'g1', { clientId: 'field-unit-7' }))).toBe(2);
    expect(await victimClosed).toBe(false);
    expect(presence.filter((p) => !p.online)).toEqual([]);
    // The owner reconnecting on node B takes its own id over: node A closes the old connection.
    const moved = closesWithin(victim, 5000);
    const again = await gw(b.port(), 'a', 'g1', { clientId: 'field-unit-7' });
    expect(await moved).toBe(true);
    await again.endAsync();
    victim.end(true);
  });

  it('refuses another identity a stored session’s client id on any node, and bounds persistent sessions cluster-wide', async () => {
    await (await gw(a.port(), 'b', 'g2', { clientId: 'b-g2-store', clean: false })).endAsync();
    expect(await codeOf(gw(b.port(), 'a', 'g2', { clientId: 'b-g2-store', clean: false }))).toBe(2);
    expect(await codeOf(gw(a.port(), 'a', 'g2', { clientId: 'b-g2-store' }))).toBe(2);
    expect(await codeOf(gw(b.port(), 'b', 'g2', { clientId: 'b-g2-store', clean: false }))).toBe(0);
    await (await gw(b.port(), 'b', 'g2', { clientId: 'b-g2-store-2', clean: false })).endAsync();
    expect(await codeOf(gw(a.port(), 'b', 'g2', { clientId: 'b-g2-store-3', clean: false }))).toBe(5);
    expect(await codeOf(gw(b.port(), 'a', 'g2', { clientId: 'hw-rules' }))).toBe(2);
  });

  it('keeps a live clean-session claim past its TTL by refreshing it, and lets a crashed node’s claim expire', async () => {
    const nodeX = createRedisClientIds(redis.url, { cleanTtlMs: 1500 });
    const nodeY = createRedisClientIds(redis.url, { cleanTtlMs: 1500 });
    const req = (owner: string, token: string) => ({ clientId: 'ttl-probe', owner, persistent: false, maxPersistent: 0, token });
    try {
      expect(await nodeX.claim(req('a/g1', 't1'))).toBe('ok');
      await new Promise((r) => setTimeout(r, 2500)); // past the TTL: node X refreshed it
      expect(await nodeY.claim(req('b/g1', 't2'))).toBe('taken');
      await nodeX.close(); // node X dies without releasing: no more refreshes
      await waitFor(async () => (await nodeY.claim(req('b/g1', 't2'))) === 'ok' || undefined, { what: 'the claim of a dead node to expire', timeoutMs: 5000 });
      // A release by a connection that no longer holds the claim changes nothing.
      await nodeY.release('ttl-probe', 't1');
      const nodeZ = createRedisClientIds(redis.url);
      expect(await nodeZ.claim(req('a/g1', 't3'))).toBe('taken');
      await nodeY.release('ttl-probe', 't2');
      expect(await nodeZ.claim(req('a/g1', 't3'))).toBe('ok');
      await nodeZ.close();
    } finally {
      await nodeX.close().catch(() => undefined);
      await nodeY.close();
    }
  });
});
