import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { loadCatalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { buildRegistry, RegistryHolder, type RegistryFile } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { tempDir } from '../../test/fixtures.ts';
import { runExposureCli } from '../../cli/exposure.ts';
import { createRulesEngine, type RulesEngine } from '../src/engine.ts';
import type { GradingEdition } from '../src/grading.ts';

/**
 * Issue 12 item 4: the auditor CLI (segments) and the streaming engine (minute windows) give
 * the same C_TWA, highest C_STE, LEX,8h, noise dose and GBZ/T 229 grade for random shifts,
 * under each limit profile and each grading edition chosen in the registry.
 */
const MIN = 60_000;
const DAY = 24 * 3600_000;
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0);
const catalogue = loadCatalogue();

/** Demo enterprises under several profiles, each keeping only sensors its profile has limits for. */
function registry(edition: GradingEdition) {
  const raw = parseYaml(readFileSync(new URL('../../examples/registry.yaml', import.meta.url), 'utf8')) as RegistryFile;
  const keep: Record<string, [string, string[]]> = {
    'cement-liguo': ['OSHA', ['noise']],
    'foundry-liguo': ['OSHA', ['gas.co', 'dust.silica.respirable', 'noise']],
    'furniture-dawu': ['NIOSH', ['noise']],
  };
  for (const e of raw.enterprises) {
    const k = keep[e.id];
    if (!k) continue;
    e.profile = k[0];
    for (const g of e.gateways) g.sensors = g.sensors.filter((s) => k[1].includes(s.agent));
  }
  raw.grading = edition;
  return new RegistryHolder(buildRegistry(raw, catalogue));
}

const SENSORS = [
  'chem-dawu.toluene-1', // GBZ: PC-TWA and PC-STEL
  'chem-dawu.benzene-1', // GBZ: carcinogen, raised one grade (2025)
  'chem-dawu.h2s-1', // GBZ: MAC only
  'coal-liuxin.dust-resp-1', // GBZ: dust G-index
  'foundry-liguo.co-1', // OSHA: PC-TWA only, but no excursion rule, so no peak ratio (excursion-profile.test.ts)
  'foundry-liguo.silica-resp-1', // OSHA: dust
  'chem-dawu.noise-1', // GBZ 2.2 equal energy
  'cement-liguo.noise-1', // OSHA 5 dB, 80-dB threshold
  'furniture-dawu.noise-1', // NIOSH 3 dB
];

/** Readings on minute marks within 8 h (a random subset: gaps are unexposed time), each a random multiple of the limit scale. */
const shiftArb = fc.record({
  sensor: fc.constantFrom(...SENSORS),
  startMin: fc.integer({ min: 0, max: 120 }),
  readings: fc.uniqueArray(fc.record({ minute: fc.integer({ min: 0, max: 479 }), x: fc.double({ min: 0, max: 6, noNaN: true }) }), { selector: (r) => r.minute, minLength: 1, maxLength: 120 }),
});

const close = (a: number, b: number, rel = 1e-9) => Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));

describe.each(['GBZ/T229-2010', 'GBZ/T229-2025'] as const)('CLI and streaming engine agree (%s)', (edition) => {
  const reg = registry(edition);
  const dir = tempDir('hw-agree-');
  let store: Store;
  let engine: RulesEngine;
  let clock = T0;
  beforeAll(async () => {
    store = createSqliteStore(dir, silentLogger());
    await store.start();
    engine = createRulesEngine({ registry: reg, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock }, { clearHoldMs: 60_000 });
    await engine.start();
  });
  afterAll(async () => {
    await engine.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('C_TWA, C_STE max, LEX,8h, dose % and grade on random shifts', () => {
    let run = 0;
    fc.assert(fc.property(shiftArb, ({ sensor, startMin, readings }) => {
      const s = reg.current.sensors.get(sensor)!;
      const limits = catalogue.limits(s.profileId, s.agent)!;
      const noise = s.agentDef.kind === 'noise';
      // Noise from 60 to 120 dB(A); others up to 6 × their lowest limit.
      const scale = limits.pcTwa?.value ?? limits.mac?.value ?? 1;
      const value = (x: number) => (noise ? 60 + 10 * x : x * scale);
      // Each run two days after the last: the 12-h windows hold nothing of the previous one.
      const base = T0 + ++run * 2 * DAY + startMin * MIN;
      const sorted = [...readings].sort((a, b) => a.minute - b.minute);
      const lines: string[] = [];
      for (const r of sorted) {
        const ts = base + r.minute * MIN;
        clock = ts;
        const v = value(r.x);
        engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts, value: v, unit: s.agentDef.unit, valueStd: v }]);
        // A reading holds until the next one, at most max(3 × 2 s, 60 s) = 1 min: one segment a reading.
        lines.push(`${ts},${ts + MIN},${v}`);
      }
      clock = base + (sorted.at(-1)!.minute + 1) * MIN;
      const live = engine.exposure(s.id)!;
      const liveGrade = engine.grade(s.id)!;
      const out = runExposureCli(['--profile', s.profileId, '--agent', s.agent, '--labour', String(s.labour), '--grading', edition], lines.join('\n'), catalogue);
      expect(out.code, out.stderr).toBe(0);
      const cli = JSON.parse(out.stdout) as { twa8h: number | null; stel15max: number | null; lex8h: number | null; dosePercent: number | null; grade: { grade: number; G?: number } };
      if (noise) {
        expect(close(live.dosePct!, cli.dosePercent!), `dose ${live.dosePct} vs ${cli.dosePercent}`).toBe(true);
        // The engine reports −120 dB(A) where no level counts (OSHA below 80): the CLI says −∞ (null in JSON).
        if (cli.lex8h !== null) expect(close(live.lex8h!, cli.lex8h), `LEX ${live.lex8h} vs ${cli.lex8h}`).toBe(true);
        else expect(live.lex8h).toBe(-120);
      } else {
        expect(close(live.twa8h, cli.twa8h!), `C_TWA ${live.twa8h} vs ${cli.twa8h}`).toBe(true);
        const ext = engine.extremes8h(s.id)!;
        expect(close(ext.stel15max, cli.stel15max!), `C_STE max ${ext.stel15max} vs ${cli.stel15max}`).toBe(true);
      }
      expect(liveGrade.grade).toBe(cli.grade.grade);
      if (cli.grade.G !== undefined) expect(close(liveGrade.G!, cli.grade.G)).toBe(true);
    }), { numRuns: 150 });
  });
});


describe('the GBZ/T 229 edition is chosen in the registry', () => {
  it('grading: GBZ/T229-2010 | GBZ/T229-2025; absent means 2025; anything else is refused at load, naming the field', () => {
    const raw = parseYaml(readFileSync(new URL('../../examples/registry.yaml', import.meta.url), 'utf8')) as RegistryFile;
    expect(buildRegistry(raw, catalogue).file.grading).toBeUndefined();
    expect(() => buildRegistry({ ...raw, grading: 'GBZ/T229-2019' }, catalogue)).toThrow(/\/grading/);
  });
});
