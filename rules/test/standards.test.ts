import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { NoiseRule } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import { toAgentUnit } from '../../core/src/units.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { runExposureCli } from '../../cli/exposure.ts';
import { createRulesEngine } from '../src/engine.ts';
import { gradeChemical, gradeDust, gradeNoise } from '../src/grading.ts';
import { ExposureWindow } from '../src/window.ts';
import { lex8h, lexWeekly, peakExcursion, stel15max, twa8h, type Segment } from '../src/segments.ts';
import { doseToTwa, dosePct as noiseDose } from '../src/noise-dose.ts';

/**
 * Worked examples from the standards and published calculations (shared/reference/oel.md),
 * never the engine's own output. Each test names its source.
 */
const H = 3600_000;
const MIN = 60_000;
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0);
const seg = (startH: number, hours: number, value: number): Segment => ({ startMs: T0 + startH * H, endMs: T0 + (startH + hours) * H, value });
const { catalogue, registry } = demo();
const OSHA = catalogue.profiles.get('OSHA')!.noise!;
const NIOSH = catalogue.profiles.get('NIOSH')!.noise!;
const GBZ = catalogue.profiles.get('GBZ2.1-2019')!.noise!;

describe('time-weighted averages', () => {
  it('EH40/2005 Example 1: 7 h 20 min at 0.12 mg/m3 and 40 min unexposed → 0.11 mg/m3', () => {
    expect(twa8h([seg(0, 7 + 20 / 60, 0.12), seg(7 + 20 / 60, 40 / 60, 0)])).toBeCloseTo(0.11, 2);
  });
  it('GBZ 2.1 C_TWA: a shift shorter than 8 h is still divided by 8 h (6 h at 2 mg/m3 → 1.5)', () => {
    expect(twa8h([seg(0, 6, 2)])).toBeCloseTo(1.5, 12);
  });
  it('GBZ 2.1-2019 C_STE: 10 min at 12 in a 15-min period → 8; the maximum over the day is found', () => {
    const segs = [seg(0, 1, 2), { startMs: T0 + H, endMs: T0 + H + 10 * MIN, value: 12 }, seg(1 + 10 / 60, 1, 2)];
    expect(stel15max(segs)).toBeCloseTo((12 * 10 + 2 * 5) / 15, 12);
  });
});

describe('noise', () => {
  it('GBZ/T 189.8-2007 Table B.1: 4 h at 88 dB(A) is LEX,8h 85 (3-dB rule: 8→85, 2→91, 1→94, 0.5→97, 0.25→100)', () => {
    for (const [hours, level] of [[8, 85], [4, 88], [2, 91], [1, 94], [0.5, 97], [0.25, 100], [0.125, 103]] as const) {
      // The table halves time per 3 dB; equal energy halves it per 10·lg 2 = 3.01 dB: within 0.1 dB.
      expect(Math.abs(lex8h([seg(0, hours, level)]) - 85)).toBeLessThanOrEqual(0.1);
    }
  });
  it('OSHA 1910.95 Table G-16a: permitted durations give a 100 % dose (80→32 h … 115→0.25 h)', () => {
    for (const [level, hours] of [[80, 32], [85, 16], [90, 8], [95, 4], [100, 2], [105, 1], [110, 0.5], [115, 0.25], [120, 0.125]] as const) {
      expect(noiseDose([seg(0, hours, level)], OSHA)).toBeCloseTo(100, 6);
    }
  });
  it('OSHA 1910.95 Appendix A Table A-1: dose → 8-h TWA (10→73.4, 25→80, 50→85, 100→90, 200→95, 400→100, 999→106.6)', () => {
    for (const [d, twa] of [[10, 73.4], [25, 80], [50, 85], [100, 90], [200, 95], [400, 100], [999, 106.6]] as const) {
      expect(doseToTwa(d, OSHA)).toBeCloseTo(twa, 1);
    }
  });
  it('OSHA: levels below the 80 dB(A) threshold do not count towards the dose', () => {
    expect(noiseDose([seg(0, 8, 79.9)], OSHA)).toBe(0);
  });
  it('OSHA extended shifts: the action level (50 % dose) is 83.4 dB(A) for 10 h and 82.1 for 12 h', () => {
    expect(noiseDose([seg(0, 10, 83.39)], OSHA)).toBeCloseTo(50, 0);
    expect(noiseDose([seg(0, 12, 82.08)], OSHA)).toBeCloseTo(50, 0);
  });
  it('NIOSH REL, 3-dB exchange: 88→4 h, 91→2 h, 94→1 h, 97→30 min, 100→15 min are each a 100 % dose', () => {
    for (const [level, hours] of [[85, 8], [88, 4], [91, 2], [94, 1], [97, 0.5], [100, 0.25]] as const) {
      expect(noiseDose([seg(0, hours, level)], NIOSH)).toBeCloseTo(100, 0);
    }
  });
  it('GBZ 2.2-2007 weekly: five days at 85 → LEX,W 85; one day at 95 and four unexposed → 88.0', () => {
    expect(lexWeekly([85, 85, 85, 85, 85])).toBeCloseTo(85, 9);
    expect(lexWeekly([95, -Infinity, -Infinity, -Infinity, -Infinity])).toBeCloseTo(95 - 10 * Math.log10(5), 9);
  });
  it('GBZ/T 229.4-2012 noise bands: 84.9 → 0, 85 → Ⅰ, 90 → Ⅱ, 94 → Ⅲ, 100 → Ⅳ', () => {
    expect([84.9, 85, 89.9, 90, 94, 99.9, 100].map((l) => gradeNoise(l).grade)).toEqual([0, 1, 1, 2, 3, 3, 4]);
  });
  it('the profile rule is data: GBZ is equal energy (3 dB, no threshold)', () => {
    expect(GBZ).toMatchObject({ criterionDb: 85, exchangeRateDb: 3 } satisfies Partial<NoiseRule>);
  });
});

describe('GBZ 2.1-2019 peak excursion (oel.md §A.3 derived vectors)', () => {
  it.each([
    ['dust.other.total', 24, 40],
    ['dust.cement.respirable', 4.5, 7.5],
    ['dust.silica.respirable', 2.1, 3.5],
  ])('%s: 3 × PC-TWA = %s, 5 × PC-TWA = %s', (agent, x3, x5) => {
    const pcTwa = catalogue.limits('GBZ', agent)!.pcTwa!.value;
    expect(3 * pcTwa).toBeCloseTo(x3, 9);
    expect(5 * pcTwa).toBeCloseTo(x5, 9);
    // An excursion just above 3× for 10 min is allowed; for 20 min it is not; anything above 5× never is.
    const base = seg(0, 1, pcTwa / 2);
    expect(peakExcursion([base, { startMs: T0 + H, endMs: T0 + H + 10 * MIN, value: x3 * 1.01 }], pcTwa).compliant).toBe(true);
    expect(peakExcursion([base, { startMs: T0 + H, endMs: T0 + H + 20 * MIN, value: x3 * 1.01 }], pcTwa).failures).toEqual(['an excursion above 3 × PC-TWA lasted more than 15 min']);
    expect(peakExcursion([base, { startMs: T0 + H, endMs: T0 + H + MIN, value: x5 * 1.01 }], pcTwa).failures).toEqual(['a level above 5 × PC-TWA']);
  });
  it('at most 4 excursions a day, at least 1 h apart', () => {
    const exc = (h: number) => ({ startMs: T0 + h * H, endMs: T0 + h * H + 5 * MIN, value: 4 });
    expect(peakExcursion([0, 1.5, 3, 4.5, 6].map(exc), 1).failures).toContain('5 excursions above 3 × PC-TWA (at most 4 a day)');
    expect(peakExcursion([exc(0), exc(0.5)], 1).failures).toContain('excursions above 3 × PC-TWA less than 1 h apart');
  });
});

describe('GBZ/T 229 grading (vectors from the 2025 rules as summarised in oel.md §C.3 [S]; re-derive from the PDF)', () => {
  it('chemical: WD 4, B = 0.7, labour Ⅱ → G = 4.2 → Ⅰ', () => {
    const g = gradeChemical({ ratios: { twa: 0.7 }, wd: 4, labour: 2, edition: 'GBZ/T229-2025' });
    expect(g.G).toBeCloseTo(4.2, 9);
    expect(g.grade).toBe(1);
  });
  it('chemical: WD 8, B = 1.2, labour Ⅰ → G = 9.6 → Ⅱ', () => {
    const g = gradeChemical({ ratios: { twa: 1.2 }, wd: 8, labour: 1, edition: 'GBZ/T229-2025' });
    expect(g.G).toBeCloseTo(9.6, 9);
    expect(g.grade).toBe(2);
  });
  it('dust: free SiO2 > 80 % (WM 4), B = 0.8, labour Ⅲ → G = 6.4 → Ⅲ 中度', () => {
    const g = gradeDust({ twa: 0.8, pcTwa: 1, freeSilicaPct: 90, labour: 3, edition: 'GBZ/T229-2025' });
    expect(g.G).toBeCloseTo(6.4, 9);
    expect(g.grade).toBe(3);
  });
  it('the 2010 tables are a separate profile: the same dust is Ⅰ 轻度 … and B ≤ 1 is harmless', () => {
    expect(gradeDust({ twa: 0.8, pcTwa: 1, freeSilicaPct: 90, labour: 3, edition: 'GBZ/T229-2010' }).grade).toBe(0);
    const g = gradeDust({ twa: 1.5, pcTwa: 1, freeSilicaPct: 90, labour: 3, edition: 'GBZ/T229-2010' }); // 6 × 1.5 × 2 = 18 > 16
    expect([g.G, g.grade]).toEqual([18, 3]);
  });
  it('2025: B > 1 is at least Ⅱ; a carcinogen is raised one grade, at most Ⅲ', () => {
    expect(gradeChemical({ ratios: { twa: 1.05 }, wd: 1, labour: 1, edition: 'GBZ/T229-2025' }).grade).toBe(2);
    expect(gradeChemical({ ratios: { twa: 0.7 }, wd: 4, labour: 2, edition: 'GBZ/T229-2025', raiseOne: true }).grade).toBe(2);
    expect(gradeChemical({ ratios: { twa: 5 }, wd: 8, labour: 4, edition: 'GBZ/T229-2025', raiseOne: true }).grade).toBe(3);
  });
});

describe('units (GBZ 2.1 reference conditions: 20 °C, 101.3 kPa, 24.04 L/mol; OSHA 25 °C: 24.45)', () => {
  it('converts ppm to mg/m3 by mg/m3 = ppm × M / Vm', () => {
    const benzene = catalogue.agents.get('gas.benzene')!;
    const co = catalogue.agents.get('gas.co')!;
    expect((toAgentUnit(1, 'ppm', benzene, 24.45) as { value: number }).value).toBeCloseTo(3.195, 3); // OSHA 1 ppm benzene
    expect((toAgentUnit(17.165, 'ppm', co, 24.04) as { value: number }).value).toBeCloseTo(20, 2); // GBZ CO PC-TWA 20 mg/m3
    expect((toAgentUnit(500, 'ug/m3', co, 24.04) as { value: number }).value).toBe(0.5);
    expect(toAgentUnit(1, 'ppm', catalogue.agents.get('dust.coal.total')!, 24.04).ok).toBe(false);
    expect((toAgentUnit(4, 'pCi/L', catalogue.agents.get('radon')!, 24.04) as { value: number }).value).toBe(148);
  });
  it('the amendment profile changes benzene only: 3 / 6 mg/m3 (status S)', () => {
    expect(catalogue.limits('GBZ2.1-2019+A1', 'gas.benzene')).toMatchObject({ pcTwa: { value: 3, status: 'S' }, pcStel: { value: 6, status: 'S' } });
    expect(catalogue.limits('GBZ2.1-2019+A1', 'gas.toluene')).toEqual(catalogue.limits('GBZ2.1-2019', 'gas.toluene'));
  });
});

describe('properties', () => {
  const segments = fc.array(fc.record({ start: fc.integer({ min: 0, max: 8 * 60 - 2 }), len: fc.integer({ min: 1, max: 60 }), value: fc.double({ min: 0, max: 1000, noNaN: true }) }), { minLength: 1, maxLength: 12 })
    .map((xs) => {
      // Lay them end to end so they never overlap.
      let t = T0;
      return xs.map((x) => {
        const s = { startMs: t + x.start * 1000, endMs: t + x.start * 1000 + x.len * MIN, value: x.value };
        t = s.endMs;
        return s;
      });
    });
  it('a constant exposure over the whole 8 h gives a TWA equal to it', () => {
    fc.assert(fc.property(fc.double({ min: 0, max: 1e4, noNaN: true }), (c) => Math.abs(twa8h([seg(0, 8, c)]) - c) <= 1e-9 * Math.max(1, c)));
  });
  it('splitting a segment changes nothing (TWA, 15-min maximum, LEX,8h)', () => {
    fc.assert(fc.property(segments, fc.double({ min: 0.01, max: 0.99, noNaN: true }), (segs, at) => {
      const [first, ...rest] = segs;
      const cut = first!.startMs + Math.round((first!.endMs - first!.startMs) * at);
      const split = [{ ...first!, endMs: cut }, { ...first!, startMs: cut }, ...rest];
      const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
      return close(twa8h(segs), twa8h(split)) && close(stel15max(segs), stel15max(split)) && close(lex8h(segs.map((s) => ({ ...s, value: s.value / 10 }))), lex8h(split.map((s) => ({ ...s, value: s.value / 10 }))));
    }), { numRuns: 300 });
  });
  it('the streaming shift dose, asked after every reading, equals ΣCiTi of the readings held to the next (capped, gaps uncovered)', () => {
    const readings = fc.array(fc.record({ gapS: fc.integer({ min: 1, max: 900 }), value: fc.double({ min: 0, max: 1000, noNaN: true }) }), { minLength: 1, maxLength: 200 });
    fc.assert(fc.property(readings, fc.integer({ min: 0, max: 59 }), (rs, startOffsetMin) => {
      const maxHold = 5 * MIN;
      const w = new ExposureWindow(maxHold);
      const shiftStart = T0 + startOffsetMin * MIN;
      let t = shiftStart;
      const points: [number, number][] = [];
      for (const r of rs) {
        t += r.gapS * 1000;
        if (t >= shiftStart + 12 * H) break;
        w.add(t, r.value);
        points.push([t, r.value]);
        w.dose(shiftStart, t); // the engine's per-reading call
      }
      const end = shiftStart + 12 * H;
      let expected = 0;
      let covered = 0;
      points.forEach(([ts, v], i) => {
        const held = Math.min((points[i + 1]?.[0] ?? end) - ts, maxHold);
        expected += v * held;
        covered += held;
      });
      const got = w.dose(shiftStart, end);
      return Math.abs(got.dose - expected) <= 1e-9 * Math.max(1, expected) && Math.abs(got.coveredMs - covered) <= 1e-3;
    }), { numRuns: 300 });
  });
});

describe('the auditor CLI and the live engine agree on the same data', () => {
  it('C_TWA of a shift of one-minute readings: CLI segments vs the streaming windows', async () => {
    const dir = tempDir('hw-agree-');
    const store = createSqliteStore(dir, silentLogger());
    await store.start();
    let clock = T0;
    const engine = createRulesEngine({ registry, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock }, { clearHoldMs: 60_000 });
    await engine.start();
    const s = registry.current.sensors.get('chem-dawu.toluene-1')!;
    const lines: string[] = [];
    for (let i = 0; i < 8 * 60; i++) {
      const v = 20 + 30 * Math.sin(i / 37) ** 2 + (i % 7);
      clock = T0 + i * MIN;
      engine.handleReadings([{ enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: s.id, agent: s.agent, ts: clock, value: v, unit: 'mg/m3', valueStd: v }]);
      lines.push(`${clock},${clock + MIN},${v}`);
    }
    clock = T0 + 8 * 60 * MIN;
    const live = engine.exposure(s.id)!;
    const cli = JSON.parse(runExposureCli(['--profile', 'GBZ', '--agent', 'gas.toluene'], lines.join('\n'), catalogue).stdout) as { twa8h: number; limits: { pcTwa: { value: number } } };
    expect(live.twa8h).toBeCloseTo(cli.twa8h, 9);
    expect(cli.limits.pcTwa.value).toBe(50);
    await engine.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the CLI rejects bad input with the line and the reason', () => {
    const bad = runExposureCli(['--profile', 'GBZ', '--agent', 'gas.co'], '2026-11-23T08:00:00Z,2026-11-23T09:00:00Z,1\nnot-a-time,2026-11-23T10:00:00Z,1\n', catalogue);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('line 2: start "not-a-time"');
    expect(runExposureCli(['--profile', 'NOPE', '--agent', 'gas.co'], '', catalogue).stderr).toContain('unknown profile "NOPE"');
  });

  it('OSHA noise through the CLI: 4 h at 95 dB(A) is a 100 % dose and an 8-h TWA of 90', () => {
    const r = JSON.parse(runExposureCli(['--profile', 'OSHA', '--agent', 'noise'], '2026-11-23T08:00:00Z,2026-11-23T12:00:00Z,95\n', catalogue).stdout) as { dosePercent: number; lex8h: number; compliant: boolean };
    expect(r.dosePercent).toBeCloseTo(100, 6);
    expect(r.lex8h).toBeCloseTo(90, 6);
    expect(r.compliant).toBe(true);
    const g = JSON.parse(runExposureCli(['--profile', 'GBZ', '--agent', 'noise'], '2026-11-23T08:00:00Z,2026-11-23T12:00:00Z,95\n', catalogue).stdout) as { lex8h: number; compliant: boolean; grade: { grade: number } };
    expect(g.lex8h).toBeCloseTo(92, 1); // 95 + 10·lg(4/8)
    expect(g.compliant).toBe(false);
    expect(g.grade.grade).toBe(2);
  });
});
