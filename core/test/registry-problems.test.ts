import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadCatalogue } from '../src/agents.ts';
import { buildRegistry, checkRegistry, rowAndField, type RegistryFile } from '../src/registry.ts';

/** The registry's problems carry their row and field (the records import names them per row). */
const ROOT = new URL('../..', import.meta.url).pathname;
const catalogue = loadCatalogue();
const demoFile = () => parseYaml(readFileSync(join(ROOT, 'examples/registry.yaml'), 'utf8')) as RegistryFile;

describe('registry problems', () => {
  it('splits a schema path into its row and field', () => {
    expect(rowAndField('/enterprises/3/gateways/0/sensors/12/max')).toEqual({ row: '/enterprises/3/gateways/0/sensors/12', field: 'max' });
    expect(rowAndField('/enterprises/3/shifts/0/start')).toEqual({ row: '/enterprises/3', field: 'shifts/0/start' });
    expect(rowAndField('/users/2')).toEqual({ row: '/users/2' });
    expect(rowAndField('/grading')).toEqual({ row: '', field: 'grading' });
  });

  it('names the row and field of each rule broken, with the message buildRegistry prints', () => {
    const file = demoFile();
    file.enterprises[2]!.township = 'xz';
    file.enterprises[0]!.gateways[0]!.sensors[1]!.unit = 'furlongs';
    const checked = checkRegistry(file, catalogue);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems).toEqual([
      { row: '/enterprises/0/gateways/0/sensors/1', field: 'unit', message: expect.stringMatching(/unit furlongs cannot be converted/) },
      { row: '/enterprises/2', field: 'township', message: `enterprise ${file.enterprises[2]!.id}: township xz is not a township in the registry` },
    ]);
    expect(() => buildRegistry(file, catalogue)).toThrow(`enterprise ${file.enterprises[2]!.id}: township xz is not a township in the registry`);
  });

  it('refuses a loop of parents instead of walking it for ever (ancestors() would never return)', () => {
    const file = demoFile();
    const a = file.jurisdictions.find((j) => j.id === 'xz-tongshan')!;
    a.parent = 'xz-tongshan-liuxin';
    const checked = checkRegistry(file, catalogue);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.problems.filter((p) => p.message.includes('loops back'))).toEqual([
      { row: `/jurisdictions/${file.jurisdictions.indexOf(a)}`, field: 'parent', message: 'jurisdiction xz-tongshan: its chain of parents loops back to it' },
      expect.objectContaining({ message: 'jurisdiction xz-tongshan-liuxin: its chain of parents loops back to it' }),
    ]);
  });
});
