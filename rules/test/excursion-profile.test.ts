import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadCatalogue } from '../../core/src/agents.ts';
import { HwError } from '../../core/src/errors.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { buildRegistry, RegistryHolder, type RegistryFile } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { tempDir } from '../../test/fixtures.ts';
import { runExposureCli } from '../../cli/exposure.ts';
import { createRulesEngine } from '../src/engine.ts';
import { gradePoint } from '../src/grade-point.ts';

/**
 * Review 1 finding 5: GBZ 2.1-2019's peak-excursion rule (excursions above 3 × PC-TWA at most
 * 15 min, 4 a shift, 1 h apart; never above 5 × PC-TWA; oel.md §A.1, status S) and the
 * GBZ/T 229.2 peak ratio C_peak / (3 × PC-TWA) were applied under every profile, so under OSHA
 * and NIOSH a TWA-only agent raised orange `excursion` and red `peak` citing GBZ 2.1. The rule
 * is now data (`excursionRule` of the profile file): GBZ has it, OSHA and NIOSH do not (the
 * reference cites no general excursion limit for them; ACGIH's guidance is not their law).
 */
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai, the foundry's day shift starts
const catalogue = loadCatalogue();

/** The demo registry with the foundry (silica, CO: TWA-only under OSHA and NIOSH) under `profile`. */
function registry(profile: string) {
  const raw = parseYaml(readFileSync(new URL('../../examples/registry.yaml', import.meta.url), 'utf8')) as RegistryFile;
  const e = raw.enterprises.find((x) => x.id === 'foundry-liguo')!;
  e.profile = profile;
  for (const g of e.gateways) g.sensors = g.sensors.filter((s) => ['gas.co', 'dust.silica.respirable'].includes(s.agent));
  return new RegistryHolder(buildRegistry(raw, catalogue));
}

/**
 * One 8-h shift, a reading a minute: 0.6 × PC-TWA, except 20 min at 4 × PC-TWA from minute 100
 * with one minute (110) at 6 × PC-TWA. C_TWA = (460·0.6 + 19·4 + 6)/480 = 0.7458 × PC-TWA:
 * yellow `twa` (≥ ½ PC-TWA) under every profile. Under GBZ the excursion lasts 20 min (> 15)
 * and 6 × is above 5 ×: orange `excursion` and red `peak`.
 */
async function shift(profile: string, sensorId: string) {
  const reg = registry(profile);
  const s = reg.current.sensors.get(sensorId)!;
  const pcTwa = catalogue.limits(s.profileId, s.agent)!.pcTwa!.value;
  const dir = tempDir('hw-excprof-');
  const store = createSqliteStore(dir, silentLogger());
  await store.start();
  let clock = T0;
  const events: AlertEvent[] = [];
  const engine = createRulesEngine({ registry: reg, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock, onAlertEvent: (e) => void events.push(e) }, { clearHoldMs: 60_000 });
  await engine.start();
  const x = (m: number) => (m === 110 ? 6 : m >= 100 && m < 120 ? 4 : 0.6);
  const lines: string[] = [];
  try {
    for (let m = 0; m < 480; m++) {
      clock = T0 + m * MIN;
      const v = x(m) * pcTwa;
      engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: clock, value: v, unit: 'mg/m3', valueStd: v }]);
      lines.push(`${clock},${clock + MIN},${v}`);
    }
    clock = T0 + 480 * MIN;
    const cli = JSON.parse(runExposureCli(['--profile', s.profileId, '--agent', s.agent], lines.join('\n'), catalogue).stdout) as {
      peakExcursion?: { failures: string[]; source: string }; reasons: string[]; compliant: boolean; grade: { factors: { B: number } };
    };
    return { events, pcTwa, twa8h: engine.exposure(s.id)!.twa8h, grade: engine.grade(s.id)!, cli };
  } finally {
    await engine.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
const rules = (events: AlertEvent[]) => new Set(events.filter((e) => e.kind === 'raised' || e.kind === 'escalated').map((e) => `${e.alert.rule}:${e.alert.level}`));

describe('the GBZ 2.1 excursion rule applies only under profiles whose standard has it', () => {
  it('the profile files say so: GBZ2.1-2019 (and +A1, by extending it) have excursionRule, OSHA and NIOSH do not', () => {
    expect(catalogue.profiles.get('GBZ2.1-2019')!.excursionRule).toMatchObject({ rule: 'GBZ2.1-2019-PE', status: 'S' });
    expect(catalogue.profiles.get('GBZ2.1-2019+A1')!.excursionRule).toBe(catalogue.profiles.get('GBZ2.1-2019')!.excursionRule);
    expect(catalogue.profiles.get('OSHA')!.excursionRule).toBeUndefined();
    expect(catalogue.profiles.get('NIOSH')!.excursionRule).toBeUndefined();
  });

  it('OSHA, gas.co (PEL-TWA only) at 4 × its PEL for 20 min: no excursion, no peak, no peak ratio; the TWA rule still applies', async () => {
    const r = await shift('OSHA', 'foundry-liguo.co-1');
    expect(r.twa8h / r.pcTwa).toBeCloseTo(0.7458, 3);
    const raised = rules(r.events);
    expect([...raised].filter((k) => k.startsWith('excursion') || k.startsWith('peak'))).toEqual([]);
    expect(raised.has('twa:yellow')).toBe(true);
    // No red at all: 6 × the PEL for a minute breaks no OSHA rule for CO (no ceiling in Z-1).
    expect(r.events.filter((e) => e.alert.level === 'red')).toEqual([]);
    // GBZ/T 229.2 B is C_TWA / PEL, not the peak ratio 6 / 3 = 2 (engine and CLI alike).
    expect(r.grade.factors.B).toBeCloseTo(0.7458, 3);
    expect(r.cli.grade.factors.B).toBeCloseTo(0.7458, 3);
    expect(r.cli.peakExcursion).toBeUndefined();
    expect(r.cli.compliant).toBe(true);
  });

  it.each(['OSHA', 'NIOSH'])('%s, respirable silica (TWA only): no excursion or peak alert, the CLI finds it compliant', async (profile) => {
    const r = await shift(profile, 'foundry-liguo.silica-resp-1');
    const raised = rules(r.events);
    expect([...raised].filter((k) => k.startsWith('excursion') || k.startsWith('peak'))).toEqual([]);
    expect(raised.has('twa:yellow')).toBe(true);
    expect(r.cli.peakExcursion).toBeUndefined();
    expect(r.cli.compliant).toBe(true);
  });

  it('GBZ, the same shift of respirable silica (PC-TWA only): orange excursion (20 min > 15) and red peak (6 × > 5 ×), citing GBZ 2.1', async () => {
    const r = await shift('GBZ', 'foundry-liguo.silica-resp-1');
    const raised = rules(r.events);
    expect(raised.has('excursion:orange')).toBe(true);
    expect(raised.has('peak:red')).toBe(true);
    expect(raised.has('twa:yellow')).toBe(true);
    const peak = r.events.find((e) => e.alert.rule === 'peak')!;
    expect(peak.alert.reason).toMatchObject({ limit: 5 * r.pcTwa });
    expect(peak.alert.reason.source).toMatch(/^GBZ 2\.1-2019 peak excursion .*\(status S\); GBZ 2\.1-2019 Table 2/);
    expect(r.cli.peakExcursion!.failures).toEqual(['an excursion above 3 × PC-TWA lasted more than 15 min', 'a level above 5 × PC-TWA']);
    expect(r.cli.compliant).toBe(false);
  });

  it('the GBZ/T 229.2 peak ratio C_peak / (3 × PC-TWA) counts under GBZ only (2025 edition, oel.md §C.3)', () => {
    const agent = catalogue.agents.get('gas.co')!;
    const limits = { pcTwa: { value: 20, status: 'V' as const, source: 'test' } };
    const x = { twa8h: 10, stel15max: 10, peak: 120 }; // C_TWA / PC-TWA = 0.5; peak ratio 120 / 60 = 2
    const gbz = gradePoint({ agent, limits, excursionRule: catalogue.profiles.get('GBZ2.1-2019')!.excursionRule, x, labour: 1, edition: 'GBZ/T229-2025' })!;
    const osha = gradePoint({ agent, limits, excursionRule: catalogue.profiles.get('OSHA')!.excursionRule, x, labour: 1, edition: 'GBZ/T229-2025' })!;
    expect(gbz.factors.B).toBe(2);
    expect(osha.factors.B).toBe(0.5);
  });
});

describe('an excursion or peak alert from before (or from a former GBZ profile) does not stay up forever under OSHA', () => {
  it('raised under GBZ, restored by an engine whose registry puts the enterprise under OSHA: cleared by the next reading', async () => {
    const dir = tempDir('hw-excrestore-');
    const store = createSqliteStore(dir, silentLogger());
    await store.start();
    let clock = T0;
    const feed = (engine: ReturnType<typeof createRulesEngine>, reg: RegistryHolder, from: number, to: number, x: (m: number) => number) => {
      const s = reg.current.sensors.get('foundry-liguo.silica-resp-1')!;
      const pcTwa = catalogue.limits(s.profileId, s.agent)!.pcTwa!.value;
      for (let m = from; m < to; m++) {
        clock = T0 + m * MIN;
        engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: clock, value: x(m) * pcTwa, unit: 'mg/m3', valueStd: x(m) * pcTwa }]);
      }
    };
    try {
      const gbz = registry('GBZ');
      const first = createRulesEngine({ registry: gbz, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock }, { clearHoldMs: 60_000 });
      await first.start();
      feed(first, gbz, 0, 30, (m) => (m >= 5 ? 6 : 0.2)); // 25 min at 6 × PC-TWA: excursion and peak
      await first.stop();
      const osha = registry('OSHA');
      const events: AlertEvent[] = [];
      const second = createRulesEngine({ registry: osha, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock, onAlertEvent: (e) => void events.push(e) }, { clearHoldMs: 60_000 });
      await second.start();
      const restored = () => second.activeAlerts().filter((a) => a.rule === 'excursion' || a.rule === 'peak').map((a) => a.rule).sort();
      expect(restored()).toEqual(['excursion', 'peak']);
      feed(second, osha, 30, 31, () => 6);
      expect(restored()).toEqual([]);
      expect(events.filter((e) => e.kind === 'cleared').map((e) => e.alert.rule).sort()).toEqual(['excursion', 'peak']);
      await second.stop();
    } finally {
      await store.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('excursionRule is loaded with a strict schema', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const withProfile = (file: string, edit: (text: string) => string) => {
    const dir = tempDir('hw-excschema-');
    dirs.push(dir);
    cpSync(new URL('../../core/data/', import.meta.url).pathname, dir, { recursive: true });
    const p = join(dir, 'limits', file);
    writeFileSync(p, edit(readFileSync(p, 'utf8')));
    return dir;
  };
  it('a misspelt key (which would switch the rule off in silence) or an unknown rule is refused, naming it', () => {
    const misspelt = withProfile('GBZ2.1-2019.yaml', (t) => t.replace('excursionRule:', 'excursionRules:'));
    expect(() => loadCatalogue(misspelt)).toThrow(HwError);
    expect(() => loadCatalogue(misspelt)).toThrow(/GBZ2\.1-2019\.yaml/);
    const unknown = withProfile('OSHA.yaml', (t) => t.replace('\nlimits:\n', '\nexcursionRule: { rule: ACGIH-TLV, status: M, source: x }\nlimits:\n'));
    expect(() => loadCatalogue(unknown)).toThrow(/limits\/OSHA\.yaml\/excursionRule\/rule/);
  });
});
