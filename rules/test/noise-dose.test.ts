import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { loadCatalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { buildRegistry, RegistryHolder, type RegistryFile } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { tempDir } from '../../test/fixtures.ts';
import { runExposureCli } from '../../cli/exposure.ts';
import { createRulesEngine, type RulesEngine } from '../src/engine.ts';
import { allowedHours, dosePct, doseToTwa, noiseThresholds, twaToDose } from '../src/noise-dose.ts';

/**
 * Noise dose by the enterprise's profile (issue 12 item 2). Expected values are the standards'
 * tables (oel.md §B, §E.1, §E.2), never the code's own output.
 */
const H = 3600_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai
const catalogue = loadCatalogue();
const OSHA = catalogue.profiles.get('OSHA')!.noise!;
const NIOSH = catalogue.profiles.get('NIOSH')!.noise!;
const GBZ = catalogue.profiles.get('GBZ2.1-2019')!.noise!;
const seg = (startH: number, hours: number, value: number) => ({ startMs: T0 + startH * H, endMs: T0 + (startH + hours) * H, value });

describe('noise dose per profile (noise-dose.ts)', () => {
  it('OSHA 1910.95 Table G-16a: permitted hours 80→32, 85→16, 88→10.6, 90→8, 92→6.1, 95→4, 100→2, 105→1, 110→0.5, 115→0.25, 120→0.125, 130→0.031', () => {
    for (const [level, hours] of [[80, 32], [85, 16], [88, 10.6], [90, 8], [92, 6.1], [95, 4], [100, 2], [105, 1], [110, 0.5], [115, 0.25], [120, 0.125], [130, 0.031]] as const) {
      // The table prints 1 to 3 significant digits.
      expect(Math.abs(allowedHours(level, OSHA) - hours) / hours).toBeLessThan(0.01);
    }
    expect(allowedHours(83, OSHA)).toBeCloseTo(21.11, 2); // oel.md: the formula gives 21.11 (the table prints 21.1 or 21.2)
  });
  it('OSHA Appendix A Table A-1: dose → TWA 10→73.4, 25→80, 50→85, 100→90, 200→95, 400→100, 999→106.6, and back', () => {
    for (const [d, twa] of [[10, 73.4], [25, 80], [50, 85], [100, 90], [200, 95], [400, 100], [999, 106.6]] as const) {
      expect(doseToTwa(d, OSHA)).toBeCloseTo(twa, 1);
      expect(twaToDose(twa, OSHA) / d).toBeCloseTo(1, 2);
    }
  });
  it('OSHA worked example: 4 h at 95 dB(A) is a 100 % dose and a TWA of 90; 80-dB threshold; action level 85 dB(A) = 50 %', () => {
    expect(dosePct([seg(0, 4, 95)], OSHA)).toBeCloseTo(100, 9);
    expect(doseToTwa(dosePct([seg(0, 4, 95)], OSHA), OSHA)).toBeCloseTo(90, 9);
    expect(dosePct([seg(0, 8, 79.9)], OSHA)).toBe(0);
    expect(dosePct([seg(0, 8, 80)], OSHA)).toBeCloseTo(25, 9); // Table A-1: 25 % ↔ 80 dB(A)
    expect(noiseThresholds(OSHA, catalogue.limits('OSHA', 'noise'))).toMatchObject({ limitDb: 90, actionDb: 85 });
    expect(twaToDose(85, OSHA)).toBeCloseTo(50, 1);
  });
  it('NIOSH REL: 88→4 h, 91→2 h, 94→60 min, 97→30 min, 100→15 min; TWA = 10·lg(D/100) + 85', () => {
    for (const [level, hours] of [[85, 8], [88, 4], [91, 2], [94, 1], [97, 0.5], [100, 0.25]] as const) expect(allowedHours(level, NIOSH)).toBeCloseTo(hours, 9);
    expect(doseToTwa(100, NIOSH)).toBe(85);
    expect(doseToTwa(200, NIOSH)).toBeCloseTo(85 + 10 * Math.log10(2), 9);
    // No action level in the profile: half the daily dose.
    expect(noiseThresholds(NIOSH, catalogue.limits('NIOSH', 'noise')).actionDb).toBeCloseTo(85 - 10 * Math.log10(2), 5);
  });
  it('GBZ 2.2-2007 equal energy: the dose TWA is LEX,8h (4 h at 95 → 92.0); GBZ/T 189.8 Table B.1 within 0.1 dB; action 80 dB(A)', () => {
    expect(doseToTwa(dosePct([seg(0, 4, 95)], GBZ), GBZ)).toBeCloseTo(95 + 10 * Math.log10(0.5), 9);
    for (const [hours, level] of [[8, 85], [4, 88], [2, 91], [1, 94], [0.5, 97], [0.25, 100], [0.125, 103]] as const) {
      expect(Math.abs(doseToTwa(dosePct([seg(0, hours, level)], GBZ), GBZ) - 85)).toBeLessThanOrEqual(0.1);
    }
    expect(noiseThresholds(GBZ, catalogue.limits('GBZ', 'noise'))).toMatchObject({ limitDb: 85, actionDb: 80 });
  });
});

/** The demo registry with one enterprise under another profile, keeping only its noise sensor. */
function registryWith(enterpriseId: string, profile: string) {
  const raw = parseYaml(readFileSync(new URL('../../examples/registry.yaml', import.meta.url), 'utf8')) as RegistryFile;
  for (const e of raw.enterprises) {
    if (e.id !== enterpriseId) continue;
    e.profile = profile;
    for (const g of e.gateways) g.sensors = g.sensors.filter((s) => s.agent === 'noise');
  }
  return new RegistryHolder(buildRegistry(raw, catalogue));
}

describe('the live engine assesses noise by the enterprise profile', () => {
  let store: Store | undefined;
  let engine: RulesEngine | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await engine?.stop();
    await store?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** 4 h at 95 dB(A) then 4 h at 70 dB(A), one reading a minute from 08:00; events of the lex8h rule. */
  async function shift(profile: string) {
    const registry = registryWith('cement-liguo', profile);
    dir = tempDir('hw-noise-');
    store = createSqliteStore(dir, silentLogger());
    await store.start();
    let clock = T0;
    const events: AlertEvent[] = [];
    engine = createRulesEngine({ registry, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock, onAlertEvent: (e) => void events.push(e) }, { clearHoldMs: 60_000 });
    await engine.start();
    const s = registry.current.sensors.get('cement-liguo.noise-1')!;
    for (let i = 0; i <= 8 * 60; i++) {
      clock = T0 + i * MIN;
      const v = i < 4 * 60 ? 95 : 70;
      engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: 'noise', ts: clock, value: v, unit: 'dB(A)', valueStd: v }]);
    }
    return { x: engine.exposure(s.id)!, lex: events.filter((e) => e.alert.rule === 'lex8h') };
  }

  it('OSHA: 4 h at 95 dB(A) is a 100 % dose, TWA 90, compliant: yellow (action level 85), never orange', async () => {
    const { x, lex } = await shift('OSHA');
    expect(x.dosePct).toBeCloseTo(100, 6);
    expect(x.lex8h).toBeCloseTo(90, 6);
    expect(lex.map((e) => e.alert.level)).not.toContain('orange');
    expect(lex[0]).toMatchObject({ kind: 'raised', alert: { level: 'yellow', reason: { limit: 85 } } });
  });

  it('GBZ: the same shift is LEX,8h 92 dB(A) > 85: orange', async () => {
    const { x, lex } = await shift('GBZ');
    expect(x.lex8h).toBeCloseTo(92, 1);
    // Equal energy, no threshold: 4 h at 95 (10^((95−85)/10)) and 4 h at 70 (10^((70−85)/10)) over 8 h.
    expect(x.dosePct).toBeCloseTo(100 * (0.5 * 10 ** 1 + 0.5 * 10 ** -1.5), 6);
    expect(lex.map((e) => e.alert.level)).toContain('orange');
  });

  it('the CLI computes the same dose and level from the same shift (one function)', async () => {
    const { x } = await shift('OSHA');
    const csv = `${T0},${T0 + 4 * H},95\n${T0 + 4 * H},${T0 + 8 * H},70\n`;
    const cli = JSON.parse(runExposureCli(['--profile', 'OSHA', '--agent', 'noise'], csv, catalogue).stdout) as { dosePercent: number; lex8h: number; compliant: boolean };
    expect(cli.dosePercent).toBeCloseTo(x.dosePct!, 6);
    expect(cli.lex8h).toBeCloseTo(x.lex8h!, 6);
    expect(cli.compliant).toBe(true);
  });
});
