/**
 * The load generator: a separate process so it does not share an event loop with the
 * system under test. Publishes QoS 1 JSON batches from C gateway connections, each
 * keeping at most W messages in flight, optionally capped at R msgs/s in total, for D
 * seconds. Prints one JSON line with what it sent, what was acknowledged, and the
 * PUBACK latency distribution. Talks to 127.0.0.1 only and stops by itself.
 *
 *   tsx bench/load.ts '{"port":1883,"gateways":[{"user":"e/g","secret":"..","sensors":[["id","unit",80]]}],...}'
 */
import mqtt from 'mqtt';

interface LoadSpec {
  port: number;
  host?: string;
  gateways: { user: string; secret?: string; topic: string; sensors: [id: string, unit: string, value: number][] }[];
  durationS: number;
  /** Total msgs/s across all connections; 0 = as fast as acknowledgements allow. */
  rate: number;
  readingsPerMessage: number;
  inflight: number;
  baseTs: number;
  qos: 0 | 1;
}

const spec = JSON.parse(process.argv[2]!) as LoadSpec;
const latencies: number[] = [];
let sent = 0;
// The newest reading timestamp sent (the next phase starts after it, so phases never overlap).
let lastTs = spec.baseTs;
let acked = 0;
let errors = 0;

const clients = await Promise.all(
  spec.gateways.map((g, i) =>
    mqtt.connectAsync(`mqtt://${spec.host ?? '127.0.0.1'}:${spec.port}`, {
      username: g.secret ? g.user : undefined, password: g.secret, clientId: `bench-${process.pid}-${i}`, clean: true, reconnectPeriod: 0, keepalive: 60,
    }),
  ),
);
// Nagle off on the generator side too (performance.md: 20 ms p50 otherwise).
for (const c of clients) (c.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);

const start = Date.now();
const end = start + spec.durationS * 1000;
const perConnRate = spec.rate > 0 ? spec.rate / clients.length : 0;

await Promise.all(
  clients.map(async (client, ci) => {
    const g = spec.gateways[ci]!;
    let k = 0;
    let inflight = 0;
    let wake: (() => void) | undefined;
    const m = g.sensors.length;
    const startedAt = Date.now();
    while (Date.now() < end) {
      if (inflight >= spec.inflight) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      if (perConnRate > 0) {
        const due = startedAt + (k / perConnRate) * 1000;
        const wait = due - Date.now();
        if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      }
      const readings = [];
      for (let j = 0; j < spec.readingsPerMessage; j++, k++) {
        const [sensor, unit, value] = g.sensors[k % m]!;
        const ts = spec.baseTs + Math.floor(k / m);
        if (ts > lastTs) lastTs = ts;
        readings.push({ sensor, value, unit, ts });
      }
      const payload = JSON.stringify({ readings });
      const t0 = performance.now();
      inflight++;
      sent++;
      client.publish(g.topic, payload, { qos: spec.qos }, (err) => {
        inflight--;
        if (err) errors++;
        else {
          acked++;
          if ((acked & 15) === 0) latencies.push(performance.now() - t0);
        }
        const w = wake;
        wake = undefined;
        w?.();
      });
      // Yield now and then so acknowledgements are read.
      if ((k & 63) === 0) await new Promise((r) => setImmediate(r));
    }
    while (inflight > 0 && Date.now() < end + 30_000) await new Promise((r) => setTimeout(r, 5));
  }),
);
const elapsedS = (Date.now() - start) / 1000;
await Promise.all(clients.map((c) => c.endAsync()));
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? null;
process.stdout.write(JSON.stringify({ sent, acked, errors, elapsedS, lastTs, readingsAcked: acked * spec.readingsPerMessage, ackP50Ms: q(0.5), ackP99Ms: q(0.99) }) + '\n');
process.exit(0);
