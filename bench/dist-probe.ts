/**
 * `node --import tsx bench/dist-probe.ts [--all] [--idle] [--single | --batch] [--seconds N] [--profile]`
 *
 * The distributed topology alone (bench/dist.ts) under `npm run bench`'s load and phases,
 * for profiling and for before/after figures of one change in a minute or two instead of
 * the whole benchmark: warm-up (3 s at 2,000 msgs/s), then single-reading messages and
 * 50-reading batches as fast as acknowledged (N s each, default 8 as `--quick`).
 *
 *   --all      the all-in-one first, same phases and influxd, for the ratios
 *   --idle     CPU seconds of each process over 10 s at rest after the warm-up
 *   --single, --batch   that phase only
 *   --profile  V8 CPU profiles of every hazardwatch process in bench/profiles/
 *   --node-flag F   a Node/V8 flag for every hazardwatch process (repeatable)
 *
 * Prints one line per phase (sustained readings/s, CPU seconds per 1,000 readings by
 * process) on stderr, and one JSON object on stdout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startInfluxd } from '../test/influxd.ts';
import { spawnAll } from '../test/spawn-all.ts';
import { startDistributed } from './dist.ts';
import { drain, nextBaseTs, runLoad, writeBenchRegistry } from './load-fixture.ts';
import { cpuPer1k, cpuSnapshot, memMb, type Charged } from './proc-stats.ts';

const argv = process.argv.slice(2);
const has = (flag: string) => argv.includes(flag);
const seconds = has('--seconds') ? Number(argv[argv.indexOf('--seconds') + 1]) : 8;
if (!(seconds > 0 && seconds <= 600)) throw new Error('--seconds takes 1-600');
const ROOT = new URL('..', import.meta.url).pathname;
const nodeArgs = [
  ...(has('--profile') ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/profiles')}`] : []),
  // e.g. --node-flag --max-semi-space-size=8: after the bin script's own flag, so it wins.
  ...argv.flatMap((a, i) => (a === '--node-flag' && argv[i + 1] ? [argv[i + 1]!] : [])),
];
const log = (...a: unknown[]) => console.error('[dist-probe]', ...a);

const dir = mkdtempSync(join(tmpdir(), 'hw-dist-probe-'));
const { registryPath, loadGateways } = await writeBenchRegistry(dir, 1);
const influx = await startInfluxd();
let baseTs = nextBaseTs(); // each phase gets its own timestamp range (bench/load-fixture.ts)

interface Target { port: number; db: string; charged: Charged[]; stored: number }
async function phase(name: string, t: Target, spec: { durationS: number; rate: number; readingsPerMessage: number; inflight?: number }) {
  const cpu0 = cpuSnapshot(t.charged);
  const r = await runLoad({ port: t.port, gateways: loadGateways, baseTs, qos: 1, inflight: spec.inflight ?? 64, ...spec });
  baseTs = nextBaseTs(r);
  const expected = t.stored + r.readingsAcked;
  const { lagMs, stored } = await drain(influx.url, t.db, expected);
  t.stored = stored;
  const cpu = cpuPer1k(cpu0, cpuSnapshot(t.charged), r.readingsAcked);
  const sustained = Math.round(r.readingsAcked / (r.elapsedS + lagMs / 1000));
  const total = Object.values(cpu).reduce((a, b) => a + b, 0);
  log(`${name}: ${sustained} readings/s stored sustained (${Math.round(r.readingsAcked / r.elapsedS)} acknowledged, drained ${lagMs} ms after, lost ${expected - stored}); PUBACK p50 ${r.ackP50Ms?.toFixed(1)} p99 ${r.ackP99Ms?.toFixed(1)} ms; CPU s per 1,000 readings ${total.toFixed(3)}: ${JSON.stringify(cpu)}`);
  return { sustained, lost: expected - stored, cpu };
}
const phases = (t: Target, prefix: string) => ({
  warm: () => phase(`${prefix} warm-up`, t, { durationS: 3, rate: 2000, readingsPerMessage: 1 }),
  single: () => phase(`${prefix} single`, t, { durationS: seconds, rate: 0, readingsPerMessage: 1 }),
  batch: () => phase(`${prefix} batch`, t, { durationS: seconds, rate: 0, readingsPerMessage: 50, inflight: 16 }),
});
const out: Record<string, unknown> = { seconds, load: (await import('node:os')).loadavg().map((x) => Math.round(x * 10) / 10) };

if (has('--all')) {
  const hw = await spawnAll({
    HW_INFLUX_URL: influx.url, HW_INFLUX_DATABASE: 'probe_all', HW_REGISTRY: registryPath, HW_DATA_DIR: join(dir, 'data'), HW_LOG_LEVEL: 'warn',
    HW_MQTT_RATE_PER_GATEWAY_PER_S: '0',
  }, nodeArgs);
  const p = phases({ port: hw.mqttPort, db: 'probe_all', charged: [{ name: 'all', pid: hw.child.pid! }, { name: 'influxd', pid: influx.pid! }], stored: 0 }, 'all-in-one');
  await p.warm();
  if (!has('--batch')) out.allSingle = await p.single();
  if (!has('--single')) out.allBatch = await p.batch();
  await hw.stop();
}

const dist = await startDistributed({ influxUrl: influx.url, influxPid: influx.pid, database: 'probe_dist', registryPath, nodeArgs });
if (has('--profile')) log('profiles by pid:', dist.charged.map((c) => `${c.name}=${c.pid}`).join(' '));
const p = phases({ port: dist.mqttPort, db: 'probe_dist', charged: dist.charged, stored: 0 }, 'distributed');
await p.warm();
if (has('--idle')) {
  const c0 = cpuSnapshot(dist.charged);
  await new Promise((r) => setTimeout(r, 10_000));
  const c1 = cpuSnapshot(dist.charged);
  const idle = Object.fromEntries(Object.keys(c0).map((k) => [k, Math.round((c1[k]! - c0[k]!) * 100) / 100]));
  out.idleCpuSecondsPer10s = idle;
  log(`at rest after the warm-up, CPU seconds in 10 s: ${Object.values(idle).reduce((a, b) => a + b, 0).toFixed(2)}: ${JSON.stringify(idle)}`);
}
if (!has('--batch')) out.distSingle = await p.single();
if (!has('--single')) out.distBatch = await p.batch();
out.distRulesOutOfOrder = await dist.rulesOutOfOrder();
log(`readings not evaluated for arriving after a newer one of their sensor (rules workers): ${out.distRulesOutOfOrder as number}`);
out.distPeakRssMb = Math.round(dist.hwPids.map(memMb).reduce((a, m) => a + m.hwm, 0));
out.distPeakRssMbByProcess = Object.fromEntries(dist.charged.map((c) => [c.name, Math.round(memMb(c.pid).hwm)]));
log(`peak RSS (VmHWM), MB: hazardwatch processes together ${out.distPeakRssMb as number}; by process ${JSON.stringify(out.distPeakRssMbByProcess)}`);
out.distExitCodes = await dist.stop();
await influx.destroy();
rmSync(dir, { recursive: true, force: true });
console.log(JSON.stringify(out));
process.exit(0);
