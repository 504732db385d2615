// Whether dist/server (scripts/build-server.mjs) is newer than every source it was made
// from: bin/hazardwatch.js runs it then, and the TypeScript sources through tsx otherwise.
import { readFileSync, statSync } from 'node:fs';

/** `root`: a file URL of the checkout's directory, ending in '/'. */
export function buildIsFresh(root) {
  try {
    const built = statSync(new URL('dist/server/hazardwatch.js', root)).mtimeMs;
    const { inputs } = JSON.parse(readFileSync(new URL('dist/server/inputs.json', root), 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return false;
    return inputs.every((p) => statSync(new URL(p, root)).mtimeMs <= built);
  } catch {
    return false; // no build, or a source gone since
  }
}
