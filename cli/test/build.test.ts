import { mkdirSync, mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { buildIsFresh } from '../../bin/build-fresh.js';
import { spawnHw } from '../../test/spawn-all.ts';

describe('the services build (npm run build: dist/server)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hw-build-'));
  const root = pathToFileURL(`${dir}/`);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const at = (path: string, seconds: number) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), 'x');
    utimesSync(join(dir, path), seconds, seconds);
  };

  it('is run only while every source it lists has the size and mtime recorded at the build, not after an edit, an older copy, a removal, or without a build', () => {
    expect(buildIsFresh(root)).toBe(false); // nothing built
    at('core/src/a.ts', 1000);
    at('cli/main.ts', 1000);
    at('dist/server/hazardwatch.js', 2000);
    const record = (paths: string[]) => writeFileSync(join(dir, 'dist/server/inputs.json'), JSON.stringify({ inputs: paths.map((p) => ({ path: p, size: statSync(join(dir, p)).size, mtimeMs: statSync(join(dir, p)).mtimeMs })) }));
    record(['core/src/a.ts', 'cli/main.ts']);
    expect(buildIsFresh(root)).toBe(true);
    at('cli/main.ts', 3000); // edited after the build
    expect(buildIsFresh(root)).toBe(false);
    at('cli/main.ts', 500); // a copy with an older time (rsync -a, tar) is not the source built either
    expect(buildIsFresh(root)).toBe(false);
    at('cli/main.ts', 1000);
    expect(buildIsFresh(root)).toBe(true);
    writeFileSync(join(dir, 'cli/main.ts'), 'xy'); // same time, other content
    utimesSync(join(dir, 'cli/main.ts'), 1000, 1000);
    expect(buildIsFresh(root)).toBe(false);
    at('cli/main.ts', 1000);
    rmSync(join(dir, 'core/src/a.ts')); // a source gone since
    expect(buildIsFresh(root)).toBe(false);
    writeFileSync(join(dir, 'dist/server/inputs.json'), '{"inputs": []}');
    expect(buildIsFresh(root)).toBe(false);
    writeFileSync(join(dir, 'dist/server/inputs.json'), '{"inputs": [');
    expect(buildIsFresh(root)).toBe(false);
  });

  it('is what `npm test` runs (pretest builds it), and says so in the ready line', async () => {
    const hw = await spawnHw(['all']);
    try {
      expect(hw.ready.code).toBe('build');
    } finally {
      await hw.stop();
    }
  });
});
