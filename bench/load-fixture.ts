/**
 * What the end-to-end benchmarks share: a registry sized for load, the load generator
 * (bench/load.ts) run as its own process, and counting what reached InfluxDB. Used by
 * bench/run.ts (`npm run bench`) and bench/dist-probe.ts.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { hashSecret } from '../core/src/password.ts';
import { topics } from '../core/src/topics.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** Gateway connections of the load generator, one enterprise each. */
export const G = 20;
/** Noise sensors per gateway. */
export const M = 10;

export interface LoadGateway { user: string; secret?: string; topic: string; sensors: [id: string, unit: string, value: number][] }
export interface LoadResult { sent: number; acked: number; errors: number; elapsedS: number; lastTs: number; readingsAcked: number; ackP50Ms: number | null; ackP99Ms: number | null }

/**
 * The first reading timestamp of the next load phase: now, as live gateways send (the
 * rules engine's windows then slide as in production: a reading hours behind the newest
 * one takes the slow path of rules/src/window.ts), and after every timestamp of the
 * phase before, so no reading overwrites another in the store (same series, same time).
 */
export const nextBaseTs = (prev?: LoadResult): number => Math.max(Date.now(), (prev?.lastTs ?? 0) + 1);

/** Runs bench/load.ts in a process of its own (so it shares no event loop with the system under test) and returns its result line. */
export function runLoad(spec: Record<string, unknown>): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/load.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
}

/**
 * Writes `<dir>/registry.yaml`: G enterprises with one gateway of M noise sensors each, and
 * a probe plant (one noise sensor, `probes` H2S sensors) for the latency probes.
 */
export async function writeBenchRegistry(dir: string, probes: number): Promise<{ registryPath: string; secrets: Record<string, string>; loadGateways: LoadGateway[] }> {
  const secrets: Record<string, string> = {};
  const enterprises = [];
  for (let i = 0; i < G; i++) {
    const id = `bench-e${i}`;
    secrets[id] = `bench-secret-${i}`;
    enterprises.push({ id, name: id, industry: 'foundry', township: 'b-town', profile: 'GBZ', shifts: [], gateways: [{ id: 'gw1', secretHash: await hashSecret(secrets[id]!), sensors: Array.from({ length: M }, (_, j) => ({ id: `${id}.s${j}`, agent: 'noise', workplace: 'w', unit: 'dB(A)', intervalS: 1, min: 0, max: 140 })) }] });
  }
  secrets['bench-probe'] = 'bench-probe-secret';
  enterprises.push({ id: 'bench-probe', name: 'probe', industry: 'chemical', township: 'b-town', profile: 'GBZ', shifts: [], gateways: [{ id: 'gw1', secretHash: await hashSecret(secrets['bench-probe']!), sensors: [
    { id: 'probe.store', agent: 'noise', workplace: 'w', unit: 'dB(A)', intervalS: 1, min: 0, max: 140 },
    ...Array.from({ length: probes }, (_, j) => ({ id: `probe.h2s-${j}`, agent: 'gas.h2s', workplace: 'w', unit: 'mg/m3', intervalS: 1, min: 0, max: 1000 })),
  ] }] });
  const registry = {
    jurisdictions: [{ id: 'b-city', name: 'bench city', level: 'city' }, { id: 'b-district', name: 'd', level: 'district', parent: 'b-city' }, { id: 'b-town', name: 't', level: 'township', parent: 'b-district' }],
    enterprises,
    users: [{ username: 'city', name: 'bench', role: 'city', scope: 'b-city', passwordHash: await hashSecret('hazardwatch') }],
  };
  const registryPath = join(dir, 'registry.yaml');
  writeFileSync(registryPath, stringify(registry));
  const loadGateways = Array.from({ length: G }, (_, i) => ({
    user: `bench-e${i}/gw1`, secret: secrets[`bench-e${i}`], topic: topics.up(`bench-e${i}`, 'gw1'),
    sensors: Array.from({ length: M }, (_, j) => [`bench-e${i}.s${j}`, 'dB(A)', 80] as [string, string, number]),
  }));
  return { registryPath, secrets, loadGateways };
}

/** Readings stored in an InfluxDB database. */
export async function storedCount(influxUrl: string, database: string): Promise<number> {
  const q = encodeURIComponent('SELECT count(value) FROM reading');
  const body = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

/** Waits until the database holds `expected` readings (or the timeout); returns how long that took after the load ended, ms. */
export async function drain(influxUrl: string, database: string, expected: number, timeoutMs = 120_000): Promise<{ lagMs: number; stored: number }> {
  const t0 = Date.now();
  let stored = 0;
  while (Date.now() - t0 < timeoutMs) {
    stored = await storedCount(influxUrl, database);
    if (stored >= expected) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { lagMs: Date.now() - t0, stored };
}
