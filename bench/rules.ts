/**
 * Rules-engine benchmark: evaluations per second for 10,000 sensors and memory per
 * sensor. In process, with a real SQLite store for alert events; no network.
 *   npx tsx bench/rules.ts [--quick]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue } from '../core/src/agents.ts';
import { silentLogger } from '../core/src/logger.ts';
import { createMetrics } from '../core/src/metrics.ts';
import { buildRegistry, RegistryHolder } from '../core/src/registry.ts';
import { createSqliteStore } from '../core/src/store/sqlite-store.ts';
import type { Reading } from '../core/src/types.ts';
import { createRulesEngine } from '../rules/src/engine.ts';
import { updateBenchmarks } from './report.ts';

export async function benchRules(quick = process.argv.includes('--quick')) {
  const SENSORS = 10_000;
  const PER_GATEWAY = 10;
  const agents: [string, string, number][] = [['gas.co', 'mg/m3', 8], ['dust.silica.respirable', 'mg/m3', 0.3], ['noise', 'dB(A)', 82], ['gas.h2s', 'mg/m3', 2], ['gas.benzene', 'mg/m3', 1]];
  const catalogue = loadCatalogue();
  const hash = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
  const enterprises = Array.from({ length: SENSORS / PER_GATEWAY }, (_, i) => ({
    id: `e${i}`, name: `e${i}`, industry: 'foundry', township: 't', profile: 'GBZ', shifts: [{ name: 'day', start: '08:00', hours: 8 }],
    gateways: [{ id: 'gw1', secretHash: hash, sensors: Array.from({ length: PER_GATEWAY }, (_, j) => ({ id: `e${i}.s${j}`, agent: agents[j % agents.length]![0], workplace: 'w', unit: agents[j % agents.length]![1], intervalS: 10, min: 0, max: 1000 })) }],
  }));
  const registry = new RegistryHolder(buildRegistry({ jurisdictions: [{ id: 'c', name: 'c', level: 'city' }, { id: 'd', name: 'd', level: 'district', parent: 'c' }, { id: 't', name: 't', level: 'township', parent: 'd' }], enterprises, users: [] }, catalogue));
  const dir = mkdtempSync(join(tmpdir(), 'hw-rules-bench-'));
  const store = createSqliteStore(dir, silentLogger());
  await store.start();
  let clock = Date.UTC(2026, 10, 23, 1, 0, 0);
  const engine = createRulesEngine({ registry, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock }, { clearHoldMs: 60_000 });
  await engine.start();
  const sensors = [...registry.current.sensors.values()];
  const readingFor = (k: number): Reading => {
    const s = sensors[k % SENSORS]!;
    const base = agents[(k % SENSORS) % agents.length]![2];
    const v = base * (0.8 + 0.4 * ((k * 2654435761) % 1000) / 1000);
    return { enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: clock, value: v, unit: s.unit, valueStd: v };
  };
  // Warm-up: one reading per sensor allocates every window.
  global.gc?.();
  const mem = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const heap0 = mem();
  const rss0 = process.memoryUsage().rss;
  for (let k = 0; k < SENSORS; k++) engine.handleReadings([readingFor(k)]);
  global.gc?.();
  const heap1 = mem();
  const rss1 = process.memoryUsage().rss;
  // Timed: rounds of one reading per sensor, 10 s of sensor time apart.
  const rounds = quick ? 20 : 60;
  const t0 = performance.now();
  for (let r = 1; r <= rounds; r++) {
    clock += 10_000;
    const batch: Reading[] = [];
    for (let k = 0; k < SENSORS; k++) batch.push(readingFor(r * SENSORS + k));
    engine.handleReadings(batch);
  }
  const seconds = (performance.now() - t0) / 1000;
  const evalsPerSec = Math.round((rounds * SENSORS) / seconds);
  const bytesPerSensor = Math.round((heap1 - heap0) / SENSORS);
  await engine.stop();
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
  const result = { sensors: SENSORS, evaluations: rounds * SENSORS, evalsPerSec, heapBytesPerSensor: bytesPerSensor, rssBytesPerSensor: Math.round((rss1 - rss0) / SENSORS) };
  updateBenchmarks('Rules engine', [
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}. Command: \`npx tsx --expose-gc bench/rules.ts\` (also run by \`npm run bench\`), ${new Date().toISOString().slice(0, 10)}.`,
    '',
    `Each evaluation is one reading through the whole engine: exposure window update, every rule of the agent (TWA, STEL, MAC, peak, noise LEX,8h), early warning (shift projection, trend), sensor-fault checks and the alert lifecycle.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| sensors | ${SENSORS.toLocaleString('en')} (CO, respirable silica, noise, H2S, benzene) |`,
    `| evaluations per second, one core | ${evalsPerSec.toLocaleString('en')} |`,
    `| memory per sensor, heap + typed arrays (windows: 12 h of one-minute buckets, trend ring, fault state) | ${(bytesPerSensor / 1024).toFixed(1)} KiB |`,
    `| RSS per sensor | ${(result.rssBytesPerSensor / 1024).toFixed(1)} KiB |`,
  ]);
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchRules());
