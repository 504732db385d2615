import mqtt from 'mqtt';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createInfluxStore } from '../../core/src/store/influx-store.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../clients.ts';
import { waitFor } from '../ports.ts';
import { startRedis, type TestRedis } from '../redis.ts';
import { spawnHw, type SpawnedHw } from '../spawn-all.ts';

/**
 * Issue 13 item 2, "bounded": when a partition of the gateway stream holds more than
 * HW_STREAMS_MAX_BACKLOG unconsumed entries, the broker withholds PUBACKs (the gateway
 * keeps its messages) and counts it; once ingest drains the stream every message is
 * acknowledged and stored. A real broker service, redis-server and influxd.
 */
describe('a full stream partition holds gateways back, and nothing is lost', () => {
  let redis: TestRedis | undefined;
  const procs: SpawnedHw[] = [];
  afterAll(async () => {
    for (const p of procs.reverse()) expect(await p.stop()).toBe(0);
    await redis?.stop();
  });

  it('withholds the PUBACK past the backlog limit while no ingest runs, counts it, then stores all once ingest drains', async () => {
    redis = await startRedis({ aof: 'everysec' });
    const influxUrl = inject('influxUrl');
    const database = `backlog_${Date.now()}`;
    const env = { HW_SERVICE_PASSWORD: 'svc-backlog-secret', HW_STREAMS_REDIS_URL: redis.url, HW_STREAMS_MAX_BACKLOG: '3', HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: database, HW_INGEST_FLUSH_INTERVAL_MS: '50' };
    const broker = await spawnHw(['broker'], env);
    procs.push(broker);
    const port = broker.ready.mqttPort as number;
    const gw = await connectGateway(port, 'cement-liguo');
    const sensor = 'cement-liguo.noise-1';
    const t0 = Date.now() - 60_000;
    const N = 30;
    const send = (i: number) => gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: t0 + i * 1000, readings: [{ sensor, value: 80, unit: 'dB(A)' }] }), { qos: 1 });

    // One message at a time, each its own stream entry, until one is not acknowledged.
    let acked = 0;
    let held: Promise<unknown> | undefined;
    for (let i = 0; i < N && !held; i++) {
      const p = send(i);
      const answer = await Promise.race([p.then(() => 'acked'), new Promise((r) => setTimeout(() => r('held'), 1500))]);
      if (answer === 'acked') acked++;
      else held = p;
    }
    expect(held, 'a PUBACK withheld once the partition is full').toBeDefined();
    expect(acked).toBeGreaterThanOrEqual(3);
    expect(acked).toBeLessThan(N);
    expect(gw.connected).toBe(true); // held, not disconnected

    // Counted: the broker's $SYS counters (published every 10 s, retained).
    const svc = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: 'svc', password: 'svc-backlog-secret', clientId: 'hw-test-sys' });
    const counters = await new Promise<{ refused: Record<string, number> }>((resolve) => {
      svc.on('message', (_t, p: Buffer) => {
        const c = JSON.parse(p.toString()) as { refused: Record<string, number> };
        if ((c.refused.held_backlog_full ?? 0) > 0) resolve(c);
      });
      void svc.subscribeAsync('$SYS/hazardwatch/broker');
    });
    expect(counters.refused.held_backlog_full).toBeGreaterThanOrEqual(1);
    await svc.endAsync();

    // Ingest starts: the held message is acknowledged, the rest go through, all are stored once.
    procs.push(await spawnHw(['ingest'], { ...env, HW_SERVICE_BROKER_URL: `mqtt://127.0.0.1:${port}` }));
    await held;
    for (let i = acked + 1; i < N; i++) await send(i);
    const store = createInfluxStore({ url: influxUrl, database, retentionPolicy: '', org: '', bucket: '', token: '', username: '', password: '', timeoutMs: 5000 }, silentLogger());
    await waitFor(async () => (await store.countReadings({ sensorId: sensor, from: t0, to: t0 + N * 1000 })) === N || undefined, { what: `${N} readings stored`, timeoutMs: 30_000 });
    await gw.endAsync();
  });
});
