/**
 * The broker alone against Mosquitto: the same load generator (bench/load.ts, its own
 * process) publishes from G gateway connections to `hazardwatch broker` (Aedes, with the
 * registry's credentials and ACL) and to Mosquitto, and one wildcard subscriber in this
 * process counts deliveries, at QoS 0 and QoS 1. Runs are interleaved (hazardwatch,
 * Mosquitto, hazardwatch, …) over several rounds so both see the same machine noise;
 * the report takes the median of each.
 *
 * `hazardwatch broker` runs as deployed: it appends every gateway message to the Redis
 * Streams `up` log (a redis-server of its own here, AOF `appendfsync everysec`) and sends
 * a QoS 1 PUBACK only once Redis holds it. Nothing consumes the log during the runs.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort, waitFor } from '../test/ports.ts';
import { startRedis } from '../test/redis.ts';
import { spawnHw } from '../test/spawn-all.ts';
import type { LoadGateway } from './load-fixture.ts';

export interface BrokerRun { broker: 'hazardwatch' | 'mosquitto'; qos: 0 | 1; sent: number; acked: number; delivered: number; elapsedS: number; deliveredPerSec: number; ackP99Ms: number | null }
type RunLoad = (spec: Record<string, unknown>) => Promise<{ sent: number; acked: number; elapsedS: number; ackP99Ms: number | null }>;

async function countDeliveries(port: number, auth: { username?: string; password?: string }, qos: 0 | 1) {
  const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...auth, reconnectPeriod: 0, clientId: `bench-sub-${process.pid}-${qos}` });
  (sub.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
  const counter = { n: 0 };
  sub.on('message', () => counter.n++);
  await sub.subscribeAsync('hw/v1/+/+/up', { qos });
  return { counter, close: () => sub.endAsync() };
}

/** Median of each (broker, QoS) over the rounds: this machine is noisy (performance.md: ±15 %). */
export function medians(runs: BrokerRun[]): BrokerRun[] {
  const out: BrokerRun[] = [];
  for (const qos of [0, 1] as const) {
    for (const broker of ['hazardwatch', 'mosquitto'] as const) {
      const xs = runs.filter((r) => r.broker === broker && r.qos === qos).sort((a, b) => a.deliveredPerSec - b.deliveredPerSec);
      if (xs.length) out.push(xs[Math.floor(xs.length / 2)]!);
    }
  }
  return out;
}

export async function benchBrokers(opts: { dir: string; registryPath: string; gateways: LoadGateway[]; durationS: number; rounds: number; runLoad: RunLoad; log: (...a: unknown[]) => void }): Promise<BrokerRun[]> {
  const svcPassword = 'bench-service-secret';
  const redis = await startRedis({ aof: 'everysec' });
  const hw = await spawnHw(['broker'], { HW_REGISTRY: opts.registryPath, HW_SERVICE_PASSWORD: svcPassword, HW_MQTT_RATE_PER_GATEWAY_PER_S: '0', HW_LOG_LEVEL: 'warn', HW_STREAMS_REDIS_URL: redis.url });
  const mport = await freePort();
  const mconf = join(opts.dir, 'mosquitto-broker-bench.conf');
  writeFileSync(mconf, `listener ${mport} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\nmax_queued_messages 0\npersistence false\n`);
  const mosq = spawn('/usr/sbin/mosquitto', ['-c', mconf], { stdio: 'ignore' });
  await waitFor(async () => mqtt.connectAsync(`mqtt://127.0.0.1:${mport}`, { reconnectPeriod: 0 }).then(async (c) => (await c.endAsync(), true), () => undefined), { what: 'mosquitto' });
  const targets = {
    hazardwatch: { port: hw.ready.mqttPort as number, auth: { username: 'svc', password: svcPassword }, gateways: opts.gateways },
    mosquitto: { port: mport, auth: {}, gateways: opts.gateways.map((g) => ({ ...g, secret: undefined })) },
  };
  const runs: BrokerRun[] = [];
  try {
    for (let round = 0; round < opts.rounds; round++) for (const qos of [0, 1] as const) {
      for (const broker of ['hazardwatch', 'mosquitto'] as const) {
        const t = targets[broker];
        const sub = await countDeliveries(t.port, t.auth, qos);
        const r = await opts.runLoad({ port: t.port, gateways: t.gateways, baseTs: Date.now(), qos, inflight: qos === 1 ? 64 : 256, durationS: opts.durationS, rate: 0, readingsPerMessage: 1 });
        // Let the subscriber catch up with what was sent (bounded).
        const settle = Date.now() + 10_000;
        let last = -1;
        while (Date.now() < settle && sub.counter.n < r.sent && sub.counter.n !== last) {
          last = sub.counter.n;
          await new Promise((res) => setTimeout(res, 300));
        }
        await sub.close();
        const run: BrokerRun = { broker, qos, sent: r.sent, acked: r.acked, delivered: sub.counter.n, elapsedS: r.elapsedS, deliveredPerSec: Math.round(sub.counter.n / r.elapsedS), ackP99Ms: r.ackP99Ms };
        opts.log(`round ${round + 1}: broker ${broker} QoS ${qos}: sent ${r.sent}, delivered ${run.delivered} (${run.deliveredPerSec} msgs/s)${qos === 1 ? `, PUBACK p99 ${r.ackP99Ms?.toFixed(2)} ms` : ''}`);
        runs.push(run);
      }
    }
  } finally {
    mosq.kill('SIGTERM');
    await hw.stop();
    await redis.stop();
  }
  return runs;
}
