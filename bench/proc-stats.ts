/**
 * What a process costs, read from Linux's /proc (proc(5)): CPU time used so far and
 * resident memory now and at its peak. The benchmark reads these before and after a
 * phase to charge each process of a topology its CPU seconds per 1,000 readings stored.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second of utime/stime (sysconf(_SC_CLK_TCK); 100 on Linux x86-64). */
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** User + system CPU seconds the process has used (/proc/<pid>/stat fields 14 and 15). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Field 2 (comm) is in parentheses and may hold spaces: count fields after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  return (Number(rest[14 - 3]) + Number(rest[15 - 3])) / CLK_TCK;
}

/** Resident set now (VmRSS) and its peak since the process started (VmHWM), MB. */
export function memMb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]) / 1024 };
}

/** A named process whose CPU the benchmark charges per reading. */
export interface Charged { name: string; pid: number }

/** CPU seconds of each process, by name, at one moment. */
export function cpuSnapshot(procs: readonly Charged[]): Record<string, number> {
  return Object.fromEntries(procs.map((p) => [p.name, cpuSeconds(p.pid)]));
}

/**
 * CPU seconds per 1,000 readings, by process, between two snapshots, to 4 decimals (0.1 µs
 * per reading: batched readings cost a few µs each, and 3 decimals left ±25 % on them).
 */
export function cpuPer1k(before: Record<string, number>, after: Record<string, number>, readings: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t0] of Object.entries(before)) out[name] = readings > 0 ? Math.round(((after[name]! - t0) / readings) * 1000 * 10_000) / 10_000 : 0;
  return out;
}

/**
 * Samples the summed VmRSS of some processes every `intervalMs` until stopped: the peak of
 * the sum is what they held together at one moment (the sum of their VmHWM can only be
 * higher, as their peaks need not coincide).
 */
export function sampleRss(pids: readonly number[], intervalMs = 250): { stop(): number } {
  let peak = 0;
  const sample = () => {
    let sum = 0;
    for (const pid of pids) sum += memMb(pid).rss;
    peak = Math.max(peak, sum);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return Math.round(peak);
    },
  };
}
