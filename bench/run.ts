/**
 * `npm run bench [-- --quick] [-- --json] [-- --profile]`: the end-to-end benchmark.
 *
 * Starts a real influxd and the all-in-one on free ports, drives it from a separate load
 * generator process (bench/load.ts) on 127.0.0.1, then the distributed topology
 * (bench/dist.ts: Redis Streams, broker, 2 ingest, 2 rules, API) with the same generator
 * and the same phases, then the generator against Mosquitto alone as the ceiling. Writes
 * the figures to BENCHMARKS.md ("## End to end") and, with --json, prints one JSON object
 * as the last line. --profile writes V8 CPU profiles of every hazardwatch process
 * (all-in-one and services) to bench/profiles/.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import mqtt from 'mqtt';
import { loadConfig } from '../core/src/config.ts';
import { topics } from '../core/src/topics.ts';
import { startInfluxd } from '../test/influxd.ts';
import { freePort, waitFor } from '../test/ports.ts';
import { spawnAll } from '../test/spawn-all.ts';
import { benchBrokers, medians } from './broker.ts';
import { startDistributed } from './dist.ts';
import { drain, G, M, nextBaseTs, runLoad, writeBenchRegistry } from './load-fixture.ts';
import { cpuPer1k, cpuSnapshot, memMb, sampleRss, type Charged } from './proc-stats.ts';
import { login, openSocket } from '../test/clients.ts';
import { updateBenchmarks } from './report.ts';
import { benchRules } from './rules.ts';
import { benchSpool } from './spool.ts';

const args = new Set(process.argv.slice(2));
const QUICK = args.has('--quick');
const JSON_OUT = args.has('--json');
const PROFILE = args.has('--profile');
const ROOT = new URL('..', import.meta.url).pathname;
const log = (...a: unknown[]) => console.error('[bench]', ...a);
const PROFILE_ARGS = ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/profiles')}`];

const PROBES = QUICK ? 40 : 100;
// --quick must finish in under 3 minutes (issue #7): shorter phases, one broker round.
const D = QUICK ? { max: 8, latency: 8, burst: 10, baseline: 3, broker: 3, brokerRounds: 1 } : { max: 20, latency: 20, burst: 60, baseline: 10, broker: 10, brokerRounds: 3 };

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 10) / 10 : null;
};

// ---- a registry sized for load: G gateways × M noise sensors, plus a probe plant ----
const dir = mkdtempSync(join(tmpdir(), 'hw-bench-'));
const { registryPath, secrets, loadGateways } = await writeBenchRegistry(dir, PROBES);

// ---- system under test ----
log('starting influxd and the all-in-one');
const influx = await startInfluxd();
const db = 'bench';
const hw = await spawnAll({
  HW_INFLUX_URL: influx.url, HW_INFLUX_DATABASE: db, HW_REGISTRY: registryPath, HW_DATA_DIR: join(dir, 'data'), HW_LOG_LEVEL: 'warn',
  // The load generator's 20 connections each send far more than a real gateway.
  HW_MQTT_RATE_PER_GATEWAY_PER_S: '0',
}, PROFILE ? PROFILE_ARGS : []);
const pid = hw.child.pid!;


let baseTs = nextBaseTs(); // each phase gets its own timestamp range (bench/load-fixture.ts)
let expectedStored = 0;
/**
 * Where a phase sends its load: the all-in-one by default, or the distributed topology.
 * `charged`: the processes whose CPU is counted per reading (influxd and Redis included);
 * `pids`: the hazardwatch processes whose memory is reported.
 */
interface Target { port: number; db: string; pids: number[]; charged: Charged[]; expected: { n: number } }
let target: Target = { port: hw.mqttPort, db, pids: [pid], charged: [{ name: 'all', pid }, ...(influx.pid ? [{ name: 'influxd', pid: influx.pid }] : [])], expected: { n: 0 } };
async function phase(name: string, spec: { durationS: number; rate: number; readingsPerMessage: number; inflight?: number }) {
  const cpu0 = cpuSnapshot(target.charged);
  const r = await runLoad({ port: target.port, gateways: loadGateways, baseTs, qos: 1, inflight: spec.inflight ?? 64, ...spec });
  baseTs = nextBaseTs(r);
  const exp = target.db === db ? { get: () => expectedStored, set: (v: number) => (expectedStored = v) } : { get: () => target.expected.n, set: (v: number) => (target.expected.n = v) };
  exp.set(exp.get() + r.readingsAcked);
  const { lagMs, stored } = await drain(influx.url, target.db, exp.get());
  const lost = Math.max(0, exp.get() - stored);
  exp.set(stored);
  // From the phase's start to the end of its drain: every CPU second the phase's readings caused.
  const cpu = cpuPer1k(cpu0, cpuSnapshot(target.charged), r.readingsAcked);
  const mems = target.pids.map(memMb);
  const mem = { rss: mems.reduce((a, m) => a + m.rss, 0), hwm: mems.reduce((a, m) => a + m.hwm, 0) };
  log(`${name}: stored ${Math.round(r.readingsAcked / (r.elapsedS + lagMs / 1000))} readings/s sustained; ${Math.round(r.acked / r.elapsedS)} msgs/s, ${Math.round(r.readingsAcked / r.elapsedS)} readings/s acked; PUBACK p50 ${r.ackP50Ms?.toFixed(2)} ms p99 ${r.ackP99Ms?.toFixed(2)} ms; drained in ${lagMs} ms; lost ${lost}; rss ${mem.rss.toFixed(0)} MB`);
  // Sustained = what reached the store per second, counting the drain after the load stopped.
  const sustainedReadingsPerSec = Math.round(r.readingsAcked / (r.elapsedS + lagMs / 1000));
  return { ...r, msgsPerSec: Math.round(r.acked / r.elapsedS), readingsPerSec: Math.round(r.readingsAcked / r.elapsedS), sustainedReadingsPerSec, lagMs, lost, cpu };
}

log('rules engine: 10,000 sensors in process');
const rulesResult = await benchRules(QUICK);
log(`rules: ${rulesResult.evalsPerSec} evaluations/s, ${(rulesResult.heapBytesPerSensor / 1024).toFixed(1)} KiB heap per sensor`);

log('warm-up');
await phase('warm-up', { durationS: 3, rate: 2000, readingsPerMessage: 1 });

log('max single-reading throughput');
const single = await phase('single', { durationS: D.max, rate: 0, readingsPerMessage: 1 });
log('max batched throughput (50 readings per message)');
const batch = await phase('batch', { durationS: D.max, rate: 0, readingsPerMessage: 50, inflight: 16 });

// ---- latency at 5,000 msgs/s: publish → stored and publish → alert on the WebSocket ----
log('latency probes at 5,000 msgs/s');
const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${hw.mqttPort}`, { username: 'bench-probe/gw1', password: secrets['bench-probe'], reconnectPeriod: 0 });
(probe.stream as unknown as { setNoDelay?: (b: boolean) => void }).setNoDelay?.(true);
const sock = await openSocket(hw.httpPort, await login(hw.httpPort, 'city'));
const storeLat: number[] = [];
const alertLat: number[] = [];
const steady = phase('steady-5k', { durationS: D.latency, rate: 5000, readingsPerMessage: 1 });
await new Promise((r) => setTimeout(r, 1000));
const probeUntil = Date.now() + (D.latency - 2) * 1000;
let pi = 0;
while (Date.now() < probeUntil && pi < PROBES) {
  // publish → alert: a fresh sensor each time, so each probe raises a new alert.
  const sensor = `probe.h2s-${pi++}`;
  const t0 = performance.now();
  const wall = Date.now();
  await probe.publishAsync(topics.up('bench-probe', 'gw1'), JSON.stringify({ ts: wall, readings: [{ sensor, value: 20, unit: 'mg/m3' }] }), { qos: 1 });
  await waitFor(() => sock.messages.some((m) => m.type === 'alert' && m.event.alert.sensorId === sensor) || undefined, { timeoutMs: 10_000, intervalMs: 1, what: 'alert' });
  alertLat.push(performance.now() - t0);
  // publish → stored: poll InfluxDB for the exact point.
  const ts = wall + 1;
  const s0 = performance.now();
  await probe.publishAsync(topics.up('bench-probe', 'gw1'), JSON.stringify({ ts, readings: [{ sensor: 'probe.store', value: 70, unit: 'dB(A)' }] }), { qos: 1 });
  const q = encodeURIComponent(`SELECT count(value) FROM reading WHERE sensor = 'probe.store' AND time = ${ts}ms`);
  await waitFor(async () => ((await (await fetch(`${influx.url}/query?db=${db}&q=${q}`)).json()) as { results: { series?: unknown[] }[] }).results[0]?.series ? true : undefined, { timeoutMs: 10_000, intervalMs: 2, what: 'stored probe' });
  storeLat.push(performance.now() - s0);
  expectedStored++;
  await new Promise((r) => setTimeout(r, 100));
}
const steadyRes = await steady;
sock.close();
await probe.endAsync();
log(`publish→alert p50 ${pct(alertLat, 0.5)} ms p99 ${pct(alertLat, 0.99)} ms; publish→stored p50 ${pct(storeLat, 0.5)} ms p99 ${pct(storeLat, 0.99)} ms (${alertLat.length} probes)`);

// ---- a 10× burst: baseline, then 10× the baseline rate ----
const baselineRate = 2000;
log(`baseline ${baselineRate} msgs/s, then a 10× burst for ${D.burst} s`);
await phase('baseline', { durationS: D.baseline, rate: baselineRate, readingsPerMessage: 1 });
const rssDuring: number[] = [];
const sampler = setInterval(() => rssDuring.push(memMb(pid).rss), 1000);
const burst = await phase('burst-10x', { durationS: D.burst, rate: baselineRate * 10, readingsPerMessage: 1, inflight: 256 });
clearInterval(sampler);
const peak = memMb(pid);

const code = await hw.stop('SIGTERM');

log('ingest spool: append and replay into influxd');
const spoolRes = await benchSpool(influx.url, QUICK);
log(`spool: append ${spoolRes.appendSingleReadingsPerSec} readings/s (1 per message), ${spoolRes.appendBatchReadingsPerSec} (50 per message); replay ${spoolRes.replayReadingsPerSec} readings/s (${spoolRes.replayed})`);

// ---- the distributed topology: Redis Streams, broker, ingest ×2, rules ×2, api (docker-compose.yml) ----
log('distributed: redis-server (AOF everysec), broker, ingest ×2, rules --worker 0/2 and 1/2, api');
const distDb = 'bench_dist';
const dist = await startDistributed({ influxUrl: influx.url, influxPid: influx.pid, database: distDb, registryPath, nodeArgs: PROFILE ? PROFILE_ARGS : undefined });
if (PROFILE) log('distributed profiles by pid:', dist.charged.map((c) => `${c.name}=${c.pid}`).join(' '));
target = { port: dist.mqttPort, db: distDb, pids: dist.hwPids, charged: dist.charged, expected: { n: 0 } };
const distRss = sampleRss(dist.hwPids);
const distWarm = await phase('dist warm-up', { durationS: 3, rate: 2000, readingsPerMessage: 1 });
const distSingle = await phase('dist single', { durationS: D.max, rate: 0, readingsPerMessage: 1 });
const distBatch = await phase('dist batch', { durationS: D.max, rate: 0, readingsPerMessage: 50, inflight: 16 });
const distPeakRssSampledMb = distRss.stop();
const distRulesOutOfOrder = await dist.rulesOutOfOrder();
// The sum of each process's own peak: an upper bound of what they held together.
const distPeakRssMb = Math.round(dist.hwPids.map(memMb).reduce((a, m) => a + m.hwm, 0));
const distPeakRssMbByProcess = Object.fromEntries(dist.charged.map((c) => [c.name, Math.round(memMb(c.pid).hwm)]));
const distCodes = await dist.stop();
await influx.destroy();

// ---- the broker alone against Mosquitto, QoS 0 and 1 (the same generator) ----
log('broker alone vs mosquitto, QoS 0 and 1');
const allBrokerRuns = await benchBrokers({ dir, registryPath, gateways: loadGateways, durationS: D.broker, rounds: D.brokerRounds, runLoad, log });
const brokerRuns = medians(allBrokerRuns);
const br = (b: 'hazardwatch' | 'mosquitto', q: 0 | 1) => brokerRuns.find((r) => r.broker === b && r.qos === q)!;
// The end-to-end ceiling: Mosquitto alone at QoS 1, delivered to one subscriber.
const mosquittoMsgsPerSec = br('mosquitto', 1).deliveredPerSec;
log(`mosquitto: ${mosquittoMsgsPerSec} msgs/s at QoS 1`);
rmSync(dir, { recursive: true, force: true });

const result = {
  // Sustained figures: acknowledged and stored, drain time included.
  singleMsgsPerSec: single.sustainedReadingsPerSec,
  batchReadingsPerSec: batch.sustainedReadingsPerSec,
  singleAckedMsgsPerSec: single.msgsPerSec,
  batchAckedReadingsPerSec: batch.readingsPerSec,
  singleDrainMs: single.lagMs,
  batchDrainMs: batch.lagMs,
  storeP50Ms: pct(storeLat, 0.5),
  storeP99Ms: pct(storeLat, 0.99),
  alertP50Ms: pct(alertLat, 0.5),
  alertP99Ms: pct(alertLat, 0.99),
  burstLost: burst.lost,
  burstOfferedMsgsPerSec: baselineRate * 10,
  burstAckedMsgsPerSec: burst.msgsPerSec,
  burstLagRecoveryMs: burst.lagMs,
  burstRssMaxMb: Math.round(Math.max(...rssDuring, 0)),
  peakRssMb: Math.round(peak.hwm),
  mosquittoMsgsPerSec,
  ratioToMosquitto: Math.round((single.sustainedReadingsPerSec / mosquittoMsgsPerSec) * 100) / 100,
  singleLost: single.lost,
  batchLost: batch.lost,
  steadyMsgsPerSec: steadyRes.msgsPerSec,
  rulesEvalsPerSec: rulesResult.evalsPerSec,
  rulesHeapBytesPerSensor: rulesResult.heapBytesPerSensor,
  // The distributed topology (bench/dist.ts), same generator, same phases, same run.
  distSingleMsgsPerSec: distSingle.sustainedReadingsPerSec,
  distBatchReadingsPerSec: distBatch.sustainedReadingsPerSec,
  distSingleRatio: Math.round((distSingle.sustainedReadingsPerSec / single.sustainedReadingsPerSec) * 100) / 100,
  distBatchRatio: Math.round((distBatch.sustainedReadingsPerSec / batch.sustainedReadingsPerSec) * 100) / 100,
  distSingleAckedMsgsPerSec: distSingle.msgsPerSec,
  distBatchAckedReadingsPerSec: distBatch.readingsPerSec,
  distSingleDrainMs: distSingle.lagMs,
  distBatchDrainMs: distBatch.lagMs,
  distLost: distWarm.lost + distSingle.lost + distBatch.lost,
  distRulesOutOfOrder,
  distPeakRssMb,
  distPeakRssSampledMb,
  distPeakRssMbByProcess,
  distExitCodes: distCodes,
  // CPU seconds per 1,000 readings stored, by process, phase start to end of drain.
  cpuSecPer1kReadings: { single: single.cpu, batch: batch.cpu },
  distCpuSecPer1kReadings: { single: distSingle.cpu, batch: distBatch.cpu },
  brokerQos0MsgsPerSec: br('hazardwatch', 0).deliveredPerSec,
  brokerQos1MsgsPerSec: br('hazardwatch', 1).deliveredPerSec,
  mosquittoQos0MsgsPerSec: br('mosquitto', 0).deliveredPerSec,
  mosquittoQos1MsgsPerSec: br('mosquitto', 1).deliveredPerSec,
  spoolAppendSingleReadingsPerSec: spoolRes.appendSingleReadingsPerSec,
  spoolAppendBatchReadingsPerSec: spoolRes.appendBatchReadingsPerSec,
  spoolReplayReadingsPerSec: spoolRes.replayReadingsPerSec,
  exitCode: code,
  quick: QUICK,
};
const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memGiB: Math.round(totalmem() / 2 ** 30), node: process.version, influxd: execFileSync('influxd', ['version']).toString().trim() };
/** One table row per process, then the total, CPU seconds per 1,000 readings in each phase. */
function cpuRows(prefix: string, a: Record<string, number>, b: Record<string, number>): string[] {
  const total = (x: Record<string, number>) => Object.values(x).reduce((s, v) => s + v, 0).toFixed(4);
  return [...Object.keys(a).map((name) => `| ${prefix}${name} | ${a[name]!.toFixed(4)} | ${(b[name] ?? 0).toFixed(4)} |`), `| ${prefix}**total** | ${total(a)} | ${total(b)} |`];
}
updateBenchmarks('End to end', [
  `Machine: ${machine.cpus} cores (${machine.cpu}), ${machine.memGiB} GiB, Node ${machine.node}, ${machine.influxd}; influxd, hazardwatch and the load generator all on this host.`,
  `Command: \`npm run bench${QUICK ? ' -- --quick' : ''}\` (${new Date().toISOString().slice(0, 10)}). Load: ${G} gateway connections × ${M} sensors, QoS 1, ≤ 64 messages in flight per connection (16 for 50-reading batches, 256 in the burst), from a separate process.`,
  '',
  '| figure | value | target |',
  '|---|---|---|',
  `| single-reading messages/s stored, sustained (acknowledged ${result.singleAckedMsgsPerSec}/s, store drained ${result.singleDrainMs} ms after the load; lost ${single.lost}) | ${result.singleMsgsPerSec} | ≥ 20,000 |`,
  `| readings/s stored in 50-reading batches, sustained (acknowledged ${result.batchAckedReadingsPerSec}/s, drained ${result.batchDrainMs} ms after; lost ${batch.lost}) | ${result.batchReadingsPerSec} | ≥ 150,000 |`,
  `| publish → stored, p50 / p99 at 5,000 msgs/s | ${result.storeP50Ms} / ${result.storeP99Ms} ms | |`,
  `| publish → alert on WebSocket, p50 / p99 at 5,000 msgs/s (${alertLat.length} probes) | ${result.alertP50Ms} / ${result.alertP99Ms} ms | p99 ≤ 50 ms |`,
  `| 10× burst (${result.burstOfferedMsgsPerSec} msgs/s offered for ${D.burst} s): acknowledged msgs/s, lost, drain after burst, max RSS | ${result.burstAckedMsgsPerSec}, ${result.burstLost} lost, ${result.burstLagRecoveryMs} ms, ${result.burstRssMaxMb} MB | 0 lost |`,
  `| peak RSS of the all-in-one | ${result.peakRssMb} MB | |`,
  `| Mosquitto alone, same generator (QoS 1, delivered to one subscriber) | ${result.mosquittoMsgsPerSec} msgs/s | ceiling |`,
  `| hazardwatch / Mosquitto | ${result.ratioToMosquitto} | |`,
  '',
  `Distributed topology in the same run, same generator and phases (bench/dist.ts): redis-server ${execFileSync('redis-server', ['--version']).toString().match(/v=(\S+)/)?.[1] ?? ''} with AOF (\`appendfsync everysec\`), 1 broker, 2 ingest workers (one consumer group), 2 rules workers (\`--worker 0/2\`, \`1/2\`), 1 API, the same influxd; ${loadConfig({}).streams.partitions} partitions (the default).`,
  '',
  '| figure | distributed | all-in-one | distributed / all-in-one | target |',
  '|---|---|---|---|---|',
  `| single-reading messages/s stored, sustained (distributed: acknowledged ${result.distSingleAckedMsgsPerSec}/s, drained ${result.distSingleDrainMs} ms after) | ${result.distSingleMsgsPerSec} | ${result.singleMsgsPerSec} | ${result.distSingleRatio} | ≥ 0.8 |`,
  `| readings/s stored in 50-reading batches, sustained (distributed: acknowledged ${result.distBatchAckedReadingsPerSec}/s, drained ${result.distBatchDrainMs} ms after) | ${result.distBatchReadingsPerSec} | ${result.batchReadingsPerSec} | ${result.distBatchRatio} | ≥ 0.8 |`,
  `| acknowledged readings missing from the store (distributed: warm-up, single, batch) | ${result.distLost} | ${single.lost + batch.lost} | | 0 |`,
  `| readings stored but not evaluated because a newer reading of the sensor reached the rules first (hw_rules_out_of_order_total) | ${result.distRulesOutOfOrder} | | | |`,
  `| peak RSS, MB: distributed = the 6 hazardwatch processes, sum of each one's peak (VmHWM) (largest sampled sum of VmRSS: ${distPeakRssSampledMb}) | ${distPeakRssMb} | ${result.peakRssMb} | | ≤ 1,024 |`,
  '',
  'CPU seconds per 1,000 readings stored, by process: /proc/<pid>/stat utime + stime from the start of each phase to the end of its drain, divided by the readings it stored. influxd serves both topologies (one process, a database each); the load generator is not counted.',
  '',
  '| process | single-reading messages | 50-reading batches |',
  '|---|---|---|',
  ...cpuRows('all-in-one: ', single.cpu, batch.cpu),
  ...cpuRows('distributed: ', distSingle.cpu, distBatch.cpu),
]);
updateBenchmarks('Ingest spool', [
  `Machine: as above. Command: \`npm run bench${QUICK ? ' -- --quick' : ''}\` (${new Date().toISOString().slice(0, 10)}); bench/spool.ts, ${spoolRes.replayed} readings.`,
  '',
  '| figure | value |',
  '|---|---|',
  `| append, one reading per message (one synchronous write(2) each, fdatasync every 200 ms) | ${spoolRes.appendSingleReadingsPerSec} readings/s |`,
  `| append, 50 readings per message | ${spoolRes.appendBatchReadingsPerSec} readings/s |`,
  `| replay from segment files into influxd (5,000 points per write, 2 in flight) | ${spoolRes.replayReadingsPerSec} readings/s |`,
  `| spool size | ${spoolRes.bytesPerReading} bytes per reading (single-reading messages) |`,
]);
updateBenchmarks('Broker', [
  `Machine: as above. Command: \`npm run bench${QUICK ? ' -- --quick' : ''}\` (${new Date().toISOString().slice(0, 10)}), ${D.broker} s per run, ${D.brokerRounds} interleaved round(s), medians shown (all runs, msgs/s: ${allBrokerRuns.map((r) => `${r.broker === 'hazardwatch' ? 'hw' : 'mosq'}/QoS${r.qos} ${r.deliveredPerSec}`).join(', ')}).`,
  `Load: the same generator process (bench/load.ts), ${G} publishing connections as fast as the broker takes them (QoS 1: ≤ 64 in flight each; QoS 0: ≤ 256 written and not yet flushed), ~120-byte JSON, to one wildcard subscriber (hw/v1/+/+/up) at the same QoS in the bench process. hazardwatch is \`hazardwatch broker\` (Aedes 1.2 with scrypt-checked credentials, the topic ACL, limits and metrics) as deployed: each message appended to the Redis Streams log (redis-server, AOF everysec, nothing consuming it) before its QoS 1 PUBACK; Mosquitto ${spawnSync('/usr/sbin/mosquitto', ['-h']).stdout.toString().split('\n')[0]?.replace(/^mosquitto version /, '') ?? ''} runs anonymous with no persistence. Runs are interleaved.`,
  '',
  '| QoS | hazardwatch broker, delivered msgs/s | Mosquitto, delivered msgs/s | ratio | hazardwatch sent / delivered | Mosquitto sent / delivered |',
  '|---|---|---|---|---|---|',
  ...([0, 1] as const).map((q) => `| ${q} | ${br('hazardwatch', q).deliveredPerSec} | ${br('mosquitto', q).deliveredPerSec} | ${(br('hazardwatch', q).deliveredPerSec / br('mosquitto', q).deliveredPerSec).toFixed(2)} | ${br('hazardwatch', q).sent} / ${br('hazardwatch', q).delivered} | ${br('mosquitto', q).sent} / ${br('mosquitto', q).delivered} |`),
]);
if (JSON_OUT) console.log(JSON.stringify(result));
else console.log(result);
process.exit(0);
