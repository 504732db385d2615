import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../../core/src/agents.ts';
import { runExposureCli } from '../exposure.ts';

/**
 * `hazardwatch exposure lexw | adjust | radon`, checked against worked figures from the
 * sources named in each test (shared/reference/oel.md), never against the code's own output.
 */
const catalogue = loadCatalogue();
const run = (...argv: string[]) => runExposureCli(argv, '', catalogue);
const json = (...argv: string[]) => {
  const r = run(...argv);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const refused = (...argv: string[]) => {
  const r = run(...argv);
  expect(r.code, argv.join(' ')).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  return (JSON.parse(lines[0]!) as { error: { code: string; message: string } }).error;
};

describe('exposure lexw: weekly LEX,w from daily LEX,8h (ISO 1999 / ISO 9612, EU 2003/10/EC Art. 2(b))', () => {
  it('five days at 85 dB(A) are a weekly 85 dB(A): the nominal week is five 8-h days', () => {
    expect(json('lexw', '85', '85', '85', '85', '85').lexW).toBeCloseTo(85, 9);
  });
  it('90 85 85 80 80 → 10·lg[(10^9 + 2·10^8.5 + 2·10^8)/5] = 85.64 dB(A) [C]', () => {
    // Hand arithmetic: 1e9 + 2 × 316,227,766 + 2e8 = 1,832,455,532; / 5 = 366,491,106; 10·lg = 85.6406.
    expect(json('lexw', '90', '85', '85', '80', '80').lexW).toBeCloseTo(85.6406, 3);
  });
  it('a 6-day week still divides by 5: six days at 85 dB(A) → 85 + 10·lg(6/5) = 85.79 dB(A)', () => {
    const r = json('lexw', '85', '85', '85', '85', '85', '85');
    expect(r.lexW).toBeCloseTo(85.7918, 3);
    expect(r).toMatchObject({ days: 6, divisor: 5 });
  });
  it('one day at 95 dB(A) and no other exposure → 95 − 10·lg 5 = 88.0 dB(A)', () => {
    expect(json('lexw', '95').lexW).toBeCloseTo(88.0103, 3);
  });
  it('says how a 6-day week is normalised in its help', () => {
    const r = run('lexw', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/6-day week/);
    expect(r.stdout).toMatch(/1\/5/);
  });
  it('refuses non-numbers, negatives, absurd levels and more than 7 days with a coded error', () => {
    for (const argv of [['lexw'], ['lexw', '90', 'x'], ['lexw', '-3'], ['lexw', '0x55'], ['lexw', 'Infinity'], ['lexw', ''], ['lexw', '250'], ['lexw', '1', '2', '3', '4', '5', '6', '7', '8']]) {
      expect(refused(...argv).code, argv.join(' ')).toBe('HW_ERR_BAD_ARGUMENT');
    }
    expect(refused('lexw', '90', 'x').message).toContain('day 2');
  });
});

describe('exposure adjust: limits for long schedules', () => {
  it('Brief & Scala daily: 10 h → (8/10)·(14/16) = 0.7; 12 h → 0.5 (Czech Gov. Reg. 361/2007 formula (c), oel.md §A.1)', () => {
    expect(json('adjust', '--hours-per-day', '10').factor).toBeCloseTo(0.7, 12);
    expect(json('adjust', '--hours-per-day', '12').factor).toBeCloseTo(0.5, 12);
    expect(json('adjust', '--hours-per-day', '8').factor).toBe(1);
  });
  it('Brief & Scala weekly: 48 h → (40/48)·(120/128) = 0.78125', () => {
    expect(json('adjust', '--hours-per-week', '48').factor).toBeCloseTo(0.78125, 12);
  });
  it('OSHA lead 29 CFR 1910.1025(c)(2): 10 h → 40 µg/m3 (App. B example), 12 h → 33 µg/m3 (oel.md §E.4)', () => {
    const ten = json('adjust', '--hours-per-day', '10', '--profile', 'OSHA', '--agent', 'lead.dust');
    expect(ten).toMatchObject({ unit: 'mg/m3', limit: { value: 0.05 } });
    expect(ten.adjustedLimit).toBeCloseTo(0.04, 12);
    expect(ten.adjustedLimitUgM3).toBeCloseTo(40, 9);
    expect(String((ten.adjustedMethod as { source: string }).source)).toContain('1910.1025(c)(2)');
    expect(json('adjust', '--hours-per-day', '12', '--profile', 'OSHA', '--agent', 'lead.fume').adjustedLimitUgM3).toBeCloseTo(33.33, 2);
    expect(json('adjust', '--hours-per-day', '8', '--profile', 'OSHA', '--agent', 'lead.fume').adjustedLimitUgM3).toBeCloseTo(50, 9);
  });
  it('GBZ lead fume PC-TWA 0.03 mg/m3 on a 10-h day, Brief & Scala: 0.7 × 0.03 = 0.021 mg/m3', () => {
    const r = json('adjust', '--hours-per-day', '10', '--profile', 'GBZ', '--agent', 'lead.fume');
    expect(r.limit).toMatchObject({ value: 0.03 });
    expect(r.adjustedLimit).toBeCloseTo(0.021, 12);
  });
  it('refuses bad hours, unknown profile or agent, and a weekly schedule for the OSHA daily lead rule, with a coded error', () => {
    const bad: string[][] = [
      ['adjust'], ['adjust', '--hours-per-day', 'ten'], ['adjust', '--hours-per-day', '-2'], ['adjust', '--hours-per-day', '0'],
      ['adjust', '--hours-per-day', '24.5'], ['adjust', '--hours-per-week', '169'], ['adjust', '--hours-per-day', '10', '--hours-per-week', '50'],
      ['adjust', '--hours-per-day', '10', '--profile', 'NOPE', '--agent', 'lead.dust'], ['adjust', '--hours-per-day', '10', '--profile', 'OSHA', '--agent', 'lead.nope'],
      ['adjust', '--hours-per-day', '10', '--profile', 'OSHA'], ['adjust', '--hours-per-week', '48', '--profile', 'OSHA', '--agent', 'lead.dust'],
      ['adjust', '--hours-per-day', '10', '--colour', 'red'], ['adjust', '--hours-per-day'],
    ];
    for (const argv of bad) expect(refused(...argv).code, argv.join(' ')).toBe('HW_ERR_BAD_ARGUMENT');
    expect(refused('adjust', '--hours-per-day', '24.5').message).toContain('(0, 24]');
    expect(refused('adjust', '--hours-per-week', '169').message).toContain('(0, 168]');
    expect(refused('adjust', '--hours-per-day', '10', '--profile', 'NOPE', '--agent', 'lead.dust').message).toContain('unknown profile');
    expect(refused('adjust', '--hours-per-day', '10', '--profile', 'OSHA', '--agent', 'lead.nope').message).toContain('unknown agent');
    // 24 h and 168 h are the closed ends of the ranges.
    expect(json('adjust', '--hours-per-day', '24').factor).toBe(0);
    expect(json('adjust', '--hours-per-week', '168').factor).toBe(0);
  });
});

describe('exposure radon: ICRP Publication 137 dose coefficient', () => {
  it('1000 Bq/m3, F 0.4, 2000 h → 1000 × 0.4 × 2000 × 5.56e-6 × 3 ≈ 13.3 mSv', () => {
    expect(json('radon', '--bq', '1000', '--equilibrium', '0.4', '--hours', '2000').mSvPerYear).toBeCloseTo(13.34, 2);
  });
  it('ICRP: a worker at 300 Bq/m3 for a working year (2000 h, F 0.4) receives about 4 mSv', () => {
    expect(json('radon', '--bq', '300', '--equilibrium', '0.4', '--hours', '2000').mSvPerYear).toBeCloseTo(4, 1);
  });
  it('refuses missing, non-numeric, negative and out-of-range arguments with a coded error', () => {
    for (const argv of [['radon'], ['radon', '--bq', '1000', '--equilibrium', '0.4'], ['radon', '--bq', 'lots', '--equilibrium', '0.4', '--hours', '2000'],
      ['radon', '--bq', '-1', '--equilibrium', '0.4', '--hours', '2000'], ['radon', '--bq', '1000', '--equilibrium', '1.5', '--hours', '2000'],
      ['radon', '--bq', '1000', '--equilibrium', '0', '--hours', '2000'], ['radon', '--bq', '1000', '--equilibrium', '0.4', '--hours', '9000'],
      ['radon', '--bq', '1e400', '--equilibrium', '0.4', '--hours', '2000']]) {
      expect(refused(...argv).code, argv.join(' ')).toBe('HW_ERR_BAD_ARGUMENT');
    }
  });
});

describe('the hazardwatch command', () => {
  it('answers an argument-only subcommand without waiting for standard input, one JSON object on stdout', async () => {
    const bin = fileURLToPath(new URL('../../bin/hazardwatch.js', import.meta.url));
    // stdin stays open (never ended): the segment calculator would wait for it forever.
    const child = spawn(process.execPath, [bin, 'exposure', 'lexw', '90', '85', '85', '80', '80'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const t = setTimeout(() => { child.kill(); resolve(null); }, 20_000);
      child.on('exit', (c) => { clearTimeout(t); resolve(c); });
    });
    expect(code).toBe(0);
    expect((JSON.parse(out) as { lexW: number }).lexW).toBeCloseTo(85.64, 2);
  });
});

describe('the catalogue holds inorganic lead in every profile', () => {
  it('GBZ 2.1-2019 dust 0.05 and fume 0.03 mg/m3; OSHA and NIOSH 0.05 mg/m3; each with its source and tag', () => {
    for (const p of ['GBZ2.1-2019', 'GBZ2.1-2019+A1']) {
      expect(catalogue.limits(p, 'lead.dust')?.pcTwa).toMatchObject({ value: 0.05, status: 'M' });
      expect(catalogue.limits(p, 'lead.fume')?.pcTwa).toMatchObject({ value: 0.03, status: 'M' });
    }
    for (const p of ['OSHA', 'NIOSH']) for (const a of ['lead.dust', 'lead.fume']) expect(catalogue.limits(p, a)?.pcTwa?.value).toBe(0.05);
    expect(catalogue.agents.get('lead.dust')).toMatchObject({ unit: 'mg/m3', toxicity: 'high' });
  });
});
