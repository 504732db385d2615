/**
 * `node --import tsx bench/scale-out.ts run.json [run2.json …] [--readings-per-s 105000] [--per-message 10]`
 *
 * Sizes the distributed topology from measured CPU costs: each file is the JSON line of
 * `npm run bench -- --json` (its distCpuSecPer1kReadings: CPU seconds per 1,000 readings
 * stored, by process, with single-reading messages and with 50-reading batches) or of
 * `bench/dist-probe.ts` (distSingle.cpu, distBatch.cpu: the same measure). For each
 * kind of process it fits cost per message = a + b × readings in it through those two
 * points, evaluates it at `--per-message` readings, and prints the cores and processes the
 * load needs (docs/scale-out.md uses it). Rules workers and ingest workers are summed over
 * their replicas (the work is shared); the API is per replica (each one reads every
 * reading for its live view).
 */
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const RATE = opt('--readings-per-s', 105_000);
const N = opt('--per-message', 10);
/** Busy share of a core a Node process is planned at: headroom for GC pauses, bursts and catch-up after an outage. */
const PLAN_CORE = 0.6;
const files = argv.filter((a, i) => !a.startsWith('--') && !argv[i - 1]?.startsWith('--'));
if (files.length === 0 || !(RATE > 0) || !(N >= 1)) throw new Error('usage: bench/scale-out.ts run.json [more.json] [--readings-per-s R] [--per-message n]');

type Costs = Record<string, number>;
interface Run { distCpuSecPer1kReadings: { single: Costs; batch: Costs } }
interface ProbeRun { distSingle: { cpu: Costs }; distBatch: { cpu: Costs } }

/** Process kind of a charged process name: ingest0 → ingest, rules1 → rules, api0 → api. */
const kindOf = (name: string) => name.replace(/\d+$/, '');
const PER_REPLICA = new Set(['api']);

function byKind(costs: Costs): Costs {
  const out: Costs = {};
  const replicas: Record<string, number> = {};
  for (const [name, v] of Object.entries(costs)) {
    const k = kindOf(name);
    out[k] = (out[k] ?? 0) + v;
    replicas[k] = (replicas[k] ?? 0) + 1;
  }
  for (const k of Object.keys(out)) if (PER_REPLICA.has(k)) out[k]! /= replicas[k]!;
  return out;
}

/** CPU seconds per 1,000 readings at n readings per message, from the 1- and 50-reading points. */
function atN(c1: number, c50: number, n: number): { perReading: number; perMessageMs: number; perReadingMs: number } {
  // Per message: a + b·n. At n = 1 a message costs c1 (per 1,000); at n = 50, 50·c50.
  const b = Math.max(0, (50 * c50 - c1) / 49);
  const a = Math.max(0, c1 - b);
  return { perReading: (a + b * n) / n, perMessageMs: a, perReadingMs: b };
}

const runs = files.map((f): Run => {
  const j = JSON.parse(readFileSync(f, 'utf8').trim().split('\n').at(-1)!) as Run | ProbeRun;
  return 'distCpuSecPer1kReadings' in j ? j : { distCpuSecPer1kReadings: { single: j.distSingle.cpu, batch: j.distBatch.cpu } };
});
const kinds = [...new Set(runs.flatMap((r) => Object.keys(byKind(r.distCpuSecPer1kReadings.single))))];
console.log(`Load: ${RATE.toLocaleString('en')} readings/s in messages of ${N} readings (${Math.round(RATE / N).toLocaleString('en')} msgs/s). A Node process planned at ${PLAN_CORE} of a core.`);
console.log('');
console.log(`| process | CPU ms per message (fixed) | CPU ms per reading | CPU s per 1,000 readings at ${N}/message | cores at the load | processes |`);
console.log('|---|---|---|---|---|---|');
for (const k of kinds) {
  const cells = runs.map((r) => {
    const s = byKind(r.distCpuSecPer1kReadings.single)[k] ?? 0;
    const b = byKind(r.distCpuSecPer1kReadings.batch)[k] ?? 0;
    const m = atN(s, b, N);
    const cores = (RATE / 1000) * m.perReading;
    const procs = k === 'redis-server' || k === 'influxd' ? '-' : PER_REPLICA.has(k) ? (cores <= PLAN_CORE ? 'each replica: fits' : `each replica: ${cores.toFixed(1)} cores, does not fit`) : String(Math.ceil(cores / PLAN_CORE));
    return { a: m.perMessageMs.toFixed(3), b: m.perReadingMs.toFixed(4), c: m.perReading.toFixed(4), cores: cores.toFixed(2), procs };
  });
  const join = (f: (c: (typeof cells)[number]) => string) => cells.map(f).join(' / ');
  console.log(`| ${k}${PER_REPLICA.has(k) ? ' (per replica)' : ''} | ${join((c) => c.a)} | ${join((c) => c.b)} | ${join((c) => c.c)} | ${join((c) => c.cores)} | ${join((c) => c.procs)} |`);
}
