import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root (the directory whose package.json is hazardwatch's), found upwards
 * from this module: core/src in the sources, dist/server in the build (scripts/build-server.mjs),
 * so files shipped beside the code are found from either.
 */
function findRoot(from: string): string {
  let dir = from;
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'hazardwatch') return dir;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`hazardwatch's package.json not found above ${from}`);
}

export const ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

/** A path inside the checkout, e.g. `fromRoot('core/data')`. */
export const fromRoot = (...parts: string[]): string => join(ROOT, ...parts);
