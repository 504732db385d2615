import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { buildRegistry } from '../../core/src/registry.ts';
import { loadCatalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { tempDir } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { startRedis } from '../../test/redis.ts';
import { createBroker, type Broker, type Presence } from '../src/broker.ts';
import { brokerConfig as base, codeOf, connect, gw, smallRegistry, startBroker } from './fixtures.ts';

describe('broker: authentication, ACL, limits', () => {
  let broker: Broker;
  let svc: MqttClient;
  const seen: string[] = [];
  let fx: Awaited<ReturnType<typeof smallRegistry>>;
  const presence: Presence[] = [];
  const metrics = createMetrics();

  beforeAll(async () => {
    ({ broker, fx } = await startBroker({ metrics, onPresence: (p) => presence.push(p) }, { ratePerGatewayPerS: 5, rateBurst: 20, authFailLimit: 3, authBlockS: 60 }));
    svc = await connect(broker.port(), 'svc', 'svc-secret');
    await svc.subscribeAsync('hw/#', { qos: 1 });
    svc.on('message', (t) => seen.push(t));
  });
  afterAll(async () => {
    await svc?.endAsync();
    await broker?.stop();
  });

  it('lets each gateway publish only to its own up and status, for every cross-enterprise and cross-gateway combination', async () => {
    const channels = ['up', 'status', 'err', 'down/cmd', 'other'];
    for (const [e, g] of fx.gateways) {
      for (const [te, tg] of fx.gateways) {
        for (const ch of channels) {
          const topic = `hw/v1/${te}/${tg}/${ch}`;
          const c = await gw(broker.port(), e, g);
          const closed = new Promise<boolean>((r) => c.once('close', () => r(true)));
          c.publish(topic, 'x', { qos: 0 });
          // A marker on an allowed topic, after the attempt: once it arrives, the attempt has been decided.
          const marker = `hw/v1/${e}/${g}/status`;
          const allowed = te === e && tg === g && (ch === 'up' || ch === 'status');
          const before = seen.length;
          if (allowed) {
            await waitFor(() => seen.slice(before).includes(topic) || undefined, { what: `${e}/${g} → ${topic} delivered` });
            await c.endAsync();
          } else {
            // MQTT 3.1.1 has no negative PUBACK: the broker closes the connection (MQTT-3.3.5-2).
            expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r(false), 2000))]), `${e}/${g} → ${topic}`).toBe(true);
            expect(seen.slice(before), `${e}/${g} → ${topic} must not be delivered`).not.toContain(topic);
            c.end(true);
            void marker;
          }
        }
      }
    }
    expect(broker.counters.refused.acl_publish).toBeGreaterThanOrEqual(fx.gateways.length * (fx.gateways.length * channels.length - 2));
  });

  it('lets each gateway subscribe only to its own down/# and err', async () => {
    for (const [e, g] of fx.gateways) {
      const c = await gw(broker.port(), e, g);
      const filters = [`hw/v1/${e}/${g}/down/#`, `hw/v1/${e}/${g}/err`, `hw/v1/${e}/${g}/up`, `hw/v1/${e}/+/err`, 'hw/#', '#', `hw/v1/+/+/up`, ...fx.gateways.filter(([x, y]) => x !== e || y !== g).map(([x, y]) => `hw/v1/${x}/${y}/down/#`)];
      // SUBACK 0x80 for a refused filter; mqtt.js turns it into a rejected promise.
      const ok: string[] = [];
      for (const f of filters) if (await c.subscribeAsync(f, { qos: 1 }).then(() => true, () => false)) ok.push(f);
      ok.sort();
      expect(ok).toEqual([`hw/v1/${e}/${g}/down/#`, `hw/v1/${e}/${g}/err`].sort());
      await c.endAsync();
    }
  });

  it('refuses bad credentials with CONNACK 4, then throttles the address with CONNACK 3', async () => {
    expect(await codeOf(connect(broker.port(), 'a/g1', 'wrong'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'nobody/g9', 'x'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'a/g1', 'wrong'))).toBe(4);
    // Three failures from 127.0.0.1 within a minute: even the right secret is refused for now.
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(3);
    expect(broker.counters.refused.throttled).toBeGreaterThanOrEqual(1);
    expect(await metrics.registry.getSingleMetricAsString('hw_mqtt_refused_total')).toContain('reason="throttled"');
  });
});

describe('broker: limits, revocation, presence', () => {
  let broker: Broker;
  let fx: Awaited<ReturnType<typeof smallRegistry>>;
  const presence: Presence[] = [];
  beforeAll(async () => {
    ({ broker, fx } = await startBroker({ onPresence: (p) => presence.push(p) }, { ratePerGatewayPerS: 5, rateBurst: 10, maxConnections: 3 }));
  });
  afterAll(async () => broker?.stop());

  it('closes a gateway that exceeds its message rate, counts it, and keeps running', async () => {
    const c = await gw(broker.port(), 'a', 'g1');
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    for (let i = 0; i < 30; i++) c.publish('hw/v1/a/g1/up', `{"i":${i}}`, { qos: 0 });
    await closed;
    c.end(true);
    expect(broker.counters.refused.rate_limited).toBeGreaterThanOrEqual(1);
    expect(await codeOf(gw(broker.port(), 'b', 'g1'))).toBe(0);
  });

  it('lets an internal service publish past the gateway payload limit, and refuses connections past the cap with CONNACK 3', async () => {
    // A gateway's oversized message is acknowledged and rejected on err (poison-pill.test.ts).
    // The limit is for gateways: an internal service's forwarded batch may be larger.
    const svc = await connect(broker.port(), 'svc', 'svc-secret');
    await svc.subscribeAsync('hw/internal/readings', { qos: 1 });
    const got = new Promise<number>((r) => svc.once('message', (_t, p: Buffer) => r(p.length)));
    await svc.publishAsync('hw/internal/readings', Buffer.alloc(8000, 'x'), { qos: 1 });
    expect(await got).toBe(8000);
    await svc.endAsync();
    expect(broker.counters.refused.payload_too_large).toBeUndefined();
    const held = await Promise.all([gw(broker.port(), 'a', 'g2'), gw(broker.port(), 'b', 'g1'), gw(broker.port(), 'b', 'g2')]);
    expect(await codeOf(gw(broker.port(), 'a', 'g1'))).toBe(3);
    expect(broker.counters.refused.max_connections).toBe(1);
    await Promise.all(held.map((h) => h.endAsync()));
  });

  it('revokes a gateway at once when the registry is reloaded without it', async () => {
    await waitFor(() => broker.counters.connections === 0 || undefined, { what: 'connections closed' });
    const c = await gw(broker.port(), 'b', 'g2');
    const closed = new Promise<void>((r) => c.once('close', () => r()));
    const file = structuredClone(fx.file);
    file.enterprises[1]!.gateways = file.enterprises[1]!.gateways.filter((g) => g.id !== 'g2');
    fx.holder.reload(buildRegistry(file, loadCatalogue()));
    await closed;
    c.end(true);
    expect(await codeOf(gw(broker.port(), 'b', 'g2'))).toBe(4);
  });

  it('reports gateway presence: connect, the retained status, and the last will on a lost connection', async () => {
    presence.length = 0;
    const c = await gw(broker.port(), 'a', 'g2', { will: { topic: 'hw/v1/a/g2/status', payload: Buffer.from('offline'), qos: 1, retain: true } });
    await c.publishAsync('hw/v1/a/g2/status', 'online', { qos: 1, retain: true });
    (c.stream as unknown as { destroy(): void }).destroy(); // connection lost: the broker publishes the will
    await waitFor(() => presence.some((p) => p.via === 'status' && !p.online) || undefined, { what: 'the will as presence' });
    c.end(true);
    const mine = presence.filter((p) => p.enterpriseId === 'a' && p.gatewayId === 'g2').map((p) => `${p.via}:${p.online}`);
    expect(mine).toEqual(expect.arrayContaining(['connect:true', 'status:true', 'status:false', 'disconnect:false']));
  });
});

describe('broker: TLS and WebSocket listeners', () => {
  const dir = tempDir('hw-tls-');
  let broker: Broker;
  beforeAll(async () => {
    // A CA and a server certificate for 127.0.0.1, made here with openssl.
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=hazardwatch test CA');
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
    ({ broker } = await startBroker({}, { tlsPort: 0, tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server.key'), wsPort: 0 }));
  });
  afterAll(async () => {
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accepts MQTT over TLS verified against the test CA, and refuses a client that does not trust it', async () => {
    const ca = readFileSync(join(dir, 'ca.pem'));
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort()}`, { username: 'a/g1', password: 'a-g1-secret', ca, reconnectPeriod: 0 });
    await c.publishAsync('hw/v1/a/g1/up', '{}', { qos: 1 });
    await c.endAsync();
    const untrusted = await mqtt.connectAsync(`mqtts://127.0.0.1:${broker.tlsPort()}`, { username: 'a/g1', password: 'a-g1-secret', reconnectPeriod: 0, connectTimeout: 3000 }).then(() => 'connected', (e: Error) => e.message);
    expect(untrusted).toMatch(/self.signed|certificate/i);
  });

  it('verifies client certificates against HW_MQTT_TLS_CA: one the CA signed is accepted, a self-signed one or none is refused', async () => {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=a-g1');
    run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '1');
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rogue.key', '-out', 'rogue.pem', '-days', '1', '-subj', '/CN=a-g1');
    const fx = await smallRegistry();
    const verifying = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, tlsPort: 0, tlsCert: join(dir, 'server.pem'), tlsKey: join(dir, 'server.key'), tlsCa: join(dir, 'ca.pem') });
    await verifying.start();
    try {
      const ca = readFileSync(join(dir, 'ca.pem'));
      // mqtt.js' connectAsync never settles when the server closes a TLS 1.3 session after
      // the handshake (a refused client certificate): race the client's own events instead.
      const tryConnect = async (key?: string, cert?: string) => {
        const c = mqtt.connect(`mqtts://127.0.0.1:${verifying.tlsPort()}`, {
          username: 'a/g1', password: 'a-g1-secret', ca, reconnectPeriod: 0, connectTimeout: 3000,
          ...(key && cert ? { key: readFileSync(join(dir, key)), cert: readFileSync(join(dir, cert)) } : {}),
        });
        const outcome = await new Promise<string>((r) => {
          c.once('connect', () => r('connected'));
          c.once('error', (e) => r(`refused: ${e.message}`));
          c.once('close', () => r('refused: closed'));
        });
        if (outcome === 'connected') await c.publishAsync('hw/v1/a/g1/status', 'online', { qos: 1 });
        await c.endAsync(true);
        return outcome;
      };
      expect(await tryConnect('client.key', 'client.pem')).toBe('connected');
      expect(await tryConnect('rogue.key', 'rogue.pem')).toMatch(/^refused/);
      expect(await tryConnect()).toMatch(/^refused.*certificate/);
      // Neither refused client got as far as MQTT: the broker never saw their credentials.
      await waitFor(() => verifying.counters.connections === 0 || undefined, { what: 'no connection left' });
      expect(verifying.counters.refused).toEqual({});
    } finally {
      await verifying.stop();
    }
  });

  it('accepts MQTT over WebSocket with the same credentials and ACL', async () => {
    const c = await mqtt.connectAsync(`ws://127.0.0.1:${broker.wsPort()}`, { username: 'b/g2', password: 'b-g2-secret', reconnectPeriod: 0 });
    expect(await c.subscribeAsync('hw/v1/b/g2/err', { qos: 1 }).then(() => 'granted', () => 'refused')).toBe('granted');
    expect(await c.subscribeAsync('hw/v1/a/g1/err', { qos: 1 }).then(() => 'granted', () => 'refused')).toBe('refused');
    await c.endAsync();
    expect(await codeOf(mqtt.connectAsync(`ws://127.0.0.1:${broker.wsPort()}`, { username: 'b/g2', password: 'nope', reconnectPeriod: 0 }))).toBe(4);
  });
});

describe('broker: interop with Mosquitto clients', () => {
  let broker: Broker;
  beforeAll(async () => {
    ({ broker } = await startBroker({}, {}));
  });
  afterAll(async () => broker?.stop());

  it('mosquitto_sub as a gateway gets its own down messages; mosquitto_pub as a gateway reaches a service', async () => {
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.port()), '-u', 'a/g1', '-P', 'a-g1-secret', '-t', 'hw/v1/a/g1/down/#', '-q', '1', '-C', '1', '-V', 'mqttv311'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sub.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => broker.counters.connections >= 1 || undefined, { what: 'mosquitto_sub connected' });
    await new Promise((r) => setTimeout(r, 200));
    const svc = await connect(broker.port(), 'svc', 'svc-secret');
    await svc.publishAsync('hw/v1/a/g1/down/config', 'interval=5', { qos: 1 });
    await new Promise((r) => sub.once('exit', r));
    expect(out.trim()).toBe('interval=5');

    const got: string[] = [];
    await svc.subscribeAsync('hw/v1/+/+/up', { qos: 1 });
    svc.on('message', (_t, p) => got.push(p.toString()));
    // Asynchronously: the broker runs in this process and must keep answering.
    const run = promisify(execFile);
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port()), '-u', 'b/g1', '-P', 'b-g1-secret', '-t', 'hw/v1/b/g1/up', '-m', '{"from":"mosquitto_pub"}', '-q', '1']);
    await waitFor(() => got.includes('{"from":"mosquitto_pub"}') || undefined, { what: 'mosquitto_pub message at the service' });
    // And a foreign topic from mosquitto_pub never arrives.
    // The broker closes the connection: mosquitto_pub may exit non-zero.
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.port()), '-u', 'b/g1', '-P', 'b-g1-secret', '-t', 'hw/v1/a/g1/up', '-m', 'intruder', '-q', '1']).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).not.toContain('intruder');
    await svc.endAsync();
  });
});

describe('broker cluster through Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => redis?.stop());

  it('delivers a message published on node A to a subscriber on node B', async () => {
    const fx = await smallRegistry();
    const a = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, redisUrl: redis.url });
    const b = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, redisUrl: redis.url });
    await a.start();
    await b.start();
    const sub = await connect(b.port(), 'svc', 'svc-secret', { clientId: 'svc-b' });
    await sub.subscribeAsync('hw/v1/+/+/up', { qos: 1 });
    const got = new Promise<string>((r) => sub.on('message', (_t, p) => r(p.toString())));
    const pub = await gw(a.port(), 'a', 'g1');
    await pub.publishAsync('hw/v1/a/g1/up', 'across the cluster', { qos: 1 });
    expect(await got).toBe('across the cluster');
    await pub.endAsync();
    await sub.endAsync();
    await a.stop();
    await b.stop();
  });

  it('survives a Redis crash and restart: both nodes keep serving and deliver across the cluster again', async () => {
    const fx = await smallRegistry();
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const a = createBroker({ registry: fx.holder, logger }, { ...base, redisUrl: redis.url });
    const b = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, redisUrl: redis.url });
    await a.start();
    await b.start();
    const sub = await connect(b.port(), 'svc', 'svc-secret', { clientId: 'svc-b-restart' });
    await sub.subscribeAsync('hw/v1/+/+/up', { qos: 1 });
    const got: string[] = [];
    sub.on('message', (_t, p) => got.push(p.toString()));
    await redis.kill('SIGKILL');
    // Down until node A has seen its emitter fail to reconnect: that error used to be emitted
    // where nobody listened (mqemitter-redis' state emitter), which ended the process.
    await waitFor(() => warnings.some((l) => l.includes('mqemitter-redis')) || undefined, { what: 'node A seeing Redis refuse its emitter' });
    await redis.restart();
    const pub = await gw(a.port(), 'a', 'g1');
    await waitFor(async () => {
      await pub.publishAsync('hw/v1/a/g1/up', 'after the restart', { qos: 1 });
      return got.includes('after the restart') || undefined;
    }, { what: 'a message across the cluster after the Redis restart', intervalMs: 200 });
    await pub.endAsync();
    await sub.endAsync();
    await a.stop();
    await b.stop();
  });

  it('keeps a persistent QoS 1 session’s queued messages across a broker restart', async () => {
    const fx = await smallRegistry();
    let a = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, redisUrl: redis.url });
    const b = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, redisUrl: redis.url });
    await a.start();
    await b.start();
    // A gateway with a persistent session subscribes to its commands, then goes away.
    const first = await gw(a.port(), 'b', 'g1', { clientId: 'gw-b-g1', clean: false });
    await first.subscribeAsync('hw/v1/b/g1/down/#', { qos: 1 });
    await first.endAsync();
    // Commands are queued while it is offline (published through node B).
    const svc = await connect(b.port(), 'svc', 'svc-secret');
    for (const n of [1, 2, 3]) await svc.publishAsync(`hw/v1/b/g1/down/cmd`, `cmd-${n}`, { qos: 1 });
    await svc.endAsync();
    // Node A restarts.
    await a.stop();
    a = createBroker({ registry: fx.holder, logger: silentLogger() }, { ...base, redisUrl: redis.url });
    await a.start();
    const got: string[] = [];
    const again = await mqtt.connectAsync(`mqtt://127.0.0.1:${a.port()}`, { username: 'b/g1', password: 'b-g1-secret', clientId: 'gw-b-g1', clean: false, reconnectPeriod: 0 });
    again.on('message', (_t, p) => got.push(p.toString()));
    await waitFor(() => got.length >= 3 || undefined, { what: 'queued messages after the restart' });
    expect(got).toEqual(['cmd-1', 'cmd-2', 'cmd-3']);
    await again.endAsync();
    await a.stop();
    await b.stop();
  });
});
