// Whether dist/server (scripts/build-server.mjs) was made from the sources as they are:
// every source it lists has exactly the size and mtime recorded at the build (an edit, a
// copy with older times, or a save during the build all differ). bin/hazardwatch.js runs
// the build then, and the TypeScript sources through tsx otherwise.
import { readFileSync, statSync } from 'node:fs';

/** `root`: a file URL of the checkout's directory, ending in '/'. */
export function buildIsFresh(root) {
  try {
    const { inputs } = JSON.parse(readFileSync(new URL('dist/server/inputs.json', root), 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return false;
    statSync(new URL('dist/server/hazardwatch.js', root));
    return inputs.every(({ path, size, mtimeMs }) => {
      const st = statSync(new URL(path, root));
      return st.size === size && st.mtimeMs === mtimeMs;
    });
  } catch {
    return false; // no build, or a source gone since
  }
}
