import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../../test/clients.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { spawnHw } from '../../test/spawn-all.ts';
import { fnv1a, parseShard, shardOwner } from '../src/shard.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('sharded ingest', () => {
  it('splits enterprises into disjoint, complete, stable shards', () => {
    expect(fnv1a('')).toBe(0x811c9dc5); // FNV-1a offset basis
    expect(fnv1a('a')).toBe(0xe40c292c); // published FNV-1a 32-bit test vector
    const ids = Array.from({ length: 1000 }, (_, i) => `enterprise-${i}`);
    const owners = [0, 1, 2].map((k) => shardOwner({ index: k, count: 3 }));
    for (const id of ids) expect(owners.filter((o) => o(id)).length).toBe(1);
    const sizes = owners.map((o) => ids.filter(o).length);
    for (const n of sizes) expect(n).toBeGreaterThan(250);
    expect(() => parseShard('2/2')).toThrow(/k\/N/);
    expect(() => parseShard('x')).toThrow(/k\/N/);
  });

  const children: ChildProcess[] = [];
  let broker: Broker | undefined;
  const dir = tempDir('hw-shard-');
  afterAll(async () => {
    // A child killed by a signal has exitCode null too: signalCode tells it has exited.
    const running = children.filter((c) => c.exitCode === null && c.signalCode === null);
    for (const c of running) c.kill('SIGTERM');
    await Promise.all(running.map((c) => new Promise((r) => c.once('exit', r))));
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('two `hazardwatch ingest --shard k/2` processes store every reading exactly once between them', async () => {
    const influxUrl = inject('influxUrl');
    const { registry } = demo();
    broker = createBroker({ registry, logger: silentLogger() }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 1 << 16, serviceUsername: 'svc', servicePassword: 'shard-test-secret' });
    await broker.start();
    const dbs = [`shard0_${Date.now()}`, `shard1_${Date.now()}`];
    for (const k of [0, 1]) {
      const child = spawn(process.execPath, [join(ROOT, 'bin/hazardwatch.js'), 'ingest', '--shard', `${k}/2`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH, HW_SERVICE_BROKER_URL: `mqtt://127.0.0.1:${broker.port()}`, HW_SERVICE_PASSWORD: 'shard-test-secret', HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: dbs[k]!, HW_DATA_DIR: join(dir, `w${k}`), HW_INGEST_FLUSH_INTERVAL_MS: '50' },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => d.toString().includes('"msg":"ready"') && resolve());
        child.once('exit', (code) => reject(new Error(`ingest ${k} exited ${code}`)));
      });
    }
    const enterprises = [...registry.current.enterprises.keys()];
    const perEnterprise = 20;
    const start = Date.now() - 10_000;
    for (const e of enterprises) {
      const gw = await connectGateway(broker.port(), e);
      const sensor = [...registry.current.sensors.values()].find((s) => s.enterpriseId === e && s.agent === 'noise')!;
      for (let i = 0; i < perEnterprise; i++) {
        await gw.publishAsync(topics.up(e, 'gw1'), JSON.stringify({ ts: start + i, readings: [{ sensor: sensor.id, value: 80, unit: 'dB(A)' }] }), { qos: 1 });
      }
      await gw.endAsync();
    }
    const countBy = async (db: string) => {
      const q = encodeURIComponent('SELECT count(value) FROM reading GROUP BY enterprise');
      const body = (await (await fetch(`${influxUrl}/query?db=${db}&q=${q}`)).json()) as { results: { series?: { tags: { enterprise: string }; values: [string, number][] }[] }[] };
      return new Map((body.results[0]?.series ?? []).map((s) => [s.tags.enterprise, s.values[0]![1]]));
    };
    const [a, b] = await waitFor(async () => {
      const c = await Promise.all(dbs.map(countBy));
      const total = [...c[0]!.values(), ...c[1]!.values()].reduce((x, y) => x + y, 0);
      return total === enterprises.length * perEnterprise ? c : undefined;
    }, { what: 'all readings stored by the two shards', timeoutMs: 20_000 });
    for (const e of enterprises) {
      const owner = fnv1a(e) % 2;
      expect([a!.get(e) ?? 0, b!.get(e) ?? 0], e).toEqual(owner === 0 ? [perEnterprise, 0] : [0, perEnterprise]);
    }
    expect(a!.size).toBeGreaterThan(0);
    expect(b!.size).toBeGreaterThan(0);
  });
  it('kill -9 of an ingest process mid-load and a restart: the broker holds new messages meanwhile, and everything is stored once (persistent session)', async () => {
    const influxUrl = inject('influxUrl');
    const { registry } = demo();
    const b = createBroker({ registry, logger: silentLogger() }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 1 << 16, serviceUsername: 'svc', servicePassword: 'kill-test-secret' });
    await b.start();
    const db = `shardkill_${Date.now()}`;
    const startIngest = async () => {
      const p = await spawnHw(['ingest', '--shard', '0/1'], { HW_SERVICE_BROKER_URL: `mqtt://127.0.0.1:${b.port()}`, HW_SERVICE_PASSWORD: 'kill-test-secret', HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: db, HW_DATA_DIR: join(dir, 'killed'), HW_INGEST_FLUSH_INTERVAL_MS: '50' });
      children.push(p.child);
      return p.child;
    };
    const count = async () => {
      const q = encodeURIComponent("SELECT count(value) FROM reading WHERE sensor = 'cement-liguo.noise-1'");
      const body = (await (await fetch(`${influxUrl}/query?db=${db}&q=${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
      return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    };
    try {
      const first = await startIngest();
      const gw = await connectGateway(b.port(), 'cement-liguo');
      const t0 = Date.now() - 60_000;
      const N = 3000;
      let acked = 0;
      const publish = (i: number) =>
        gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: t0 + i, readings: [{ sensor: 'cement-liguo.noise-1', value: 80, unit: 'dB(A)' }] }), { qos: 1 }).then(() => acked++);
      // All at once, so that when the worker dies some messages are in flight to it.
      const sends = Array.from({ length: N }, (_, i) => publish(i));
      // Kill it a third of the way in: the rest is in flight to it or not yet sent.
      await waitFor(() => (acked >= N / 3 ? true : undefined), { what: 'a third acknowledged', intervalMs: 1 });
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      // On a fast machine the gateway may have handed every message to the broker before
      // the kill: more are sent, one per poll, until one meets the dead worker.
      let extra = 0;
      // With its only ingest worker gone, the broker holds the gateway's messages without a
      // PUBACK (the gateway keeps them) instead of queueing them in memory.
      // Once it holds one, every later message of this gateway queues behind it (the broker
      // handles a client's packets in order); allow PUBACKs already on the wire to land.
      await waitFor(() => {
        if ((b.counters.refused.held_ingest_offline ?? 0) > 0) return true;
        if (extra < 500) sends.push(publish(N + extra++));
        return undefined;
      }, { what: 'the broker holding a message for the dead worker', intervalMs: 20 });
      await new Promise((r) => setTimeout(r, 200));
      const ackedWhileDown = acked;
      await new Promise((r) => setTimeout(r, 1000));
      expect(acked).toBe(ackedWhileDown);
      expect(acked).toBeLessThan(N + extra);
      // Back: what the dead worker had received but not acknowledged comes again from its
      // persistent session, and the held messages go on.
      await startIngest();
      await Promise.all(sends);
      await gw.endAsync();
      const total = N + extra;
      const stored = await waitFor(async () => ((await count()) >= total ? await count() : undefined), { what: `${total} readings stored after the restart`, timeoutMs: 30_000 });
      expect(stored).toBe(total); // exactly once per point identity
      console.log(`drill ingest-shard kill -9: published ${total}, acknowledged before and just after the kill ${ackedWhileDown}, held while down ${total - ackedWhileDown}, stored ${stored}, lost ${total - stored}`);
    } finally {
      await b.stop();
    }
  });
});
