import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalogue } from '../src/agents.ts';
import { HwError } from '../src/errors.ts';
import { tempDir } from '../../test/fixtures.ts';

/**
 * Every limit travels with its whole source. In a YAML flow mapping an unquoted comma ends
 * the value: `source: GBZ 2.1-2019 Table 1, non-plateau (oel.md §A.2)` was read as the
 * source "GBZ 2.1-2019 Table 1" plus a stray key, so 38 alert reasons cited a cut source.
 */
const DATA = new URL('../data/', import.meta.url).pathname;

describe('limit sources are whole', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('every limit value of every profile file holds exactly value, status and source', () => {
    for (const f of ['GBZ2.1-2019.yaml', 'GBZ2.1-2019+A1.yaml', 'OSHA.yaml', 'NIOSH.yaml']) {
      const p = parseYaml(readFileSync(join(DATA, 'limits', f), 'utf8')) as { limits: Record<string, Record<string, object>> };
      for (const [agent, limits] of Object.entries(p.limits)) {
        // longShift is a rule, not a value (OSHA 1910.1025(c)(2)): method instead of value.
        for (const [kind, v] of Object.entries(limits)) expect(Object.keys(v).sort(), `${f} ${agent} ${kind}`).toEqual(kind === 'longShift' ? ['method', 'source', 'status'] : ['source', 'status', 'value']);
      }
    }
  });

  it('the catalogue carries the whole source (CO non-plateau, noise LEX,8h, NIOSH and OSHA ppm values)', () => {
    const c = loadCatalogue();
    expect(c.limits('GBZ', 'gas.co')!.pcTwa!.source).toBe('GBZ 2.1-2019 Table 1, non-plateau (oel.md §A.2)');
    expect(c.limits('GBZ', 'noise')!.lex8h!.source).toBe('GBZ 2.2-2007 (LEX,8h 85 dB(A), 8 h / 40 h)');
    expect(c.limits('NIOSH', 'gas.h2s')!.mac!.source).toBe('NIOSH Pocket Guide, C 10 ppm (10 min)');
    expect(c.limits('OSHA', 'noise')!.mac!.source).toBe('29 CFR 1910.95 Table G-16a (115 dB(A), 0.25 h)');
  });

  it('a profile with an unquoted comma in a source is refused at load, naming the file and the key', () => {
    const dir = tempDir('hw-cat-');
    dirs.push(dir);
    cpSync(DATA, dir, { recursive: true });
    const f = join(dir, 'limits', 'OSHA.yaml');
    writeFileSync(f, readFileSync(f, 'utf8').replace('source: "29 CFR 1910.1000 Table Z-1, 50 ppm"', 'source: 29 CFR 1910.1000 Table Z-1, 50 ppm'));
    let err: unknown;
    try {
      loadCatalogue(dir);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HwError);
    expect((err as HwError).code).toBe('HW_ERR_REGISTRY');
    expect((err as HwError).message).toContain('limits/OSHA.yaml/limits/gas.co/pcTwa/50 ppm: Unexpected property');
  });
});
