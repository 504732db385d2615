// `npm run build` (with the dashboard): the services as plain JavaScript in dist/server/,
// so `bin/hazardwatch.js` runs them without compiling TypeScript at start-up. tsx's loader
// runs on a thread of its own (Node 20 module hooks) with its own heap: ~45 MB of RSS per
// process, six processes in the split deployment (BENCHMARKS.md, issue 13).
//
// One ESM bundle of cli/main.ts with code splitting (each service loads only its own
// part: the broker never loads the API), npm packages left to node_modules. Source maps
// beside it: NODE_OPTIONS=--enable-source-maps maps stack traces to the TypeScript.
// dist/server/inputs.json lists the sources, so the bin script can tell a stale build
// from a fresh one and fall back to the sources.
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/server`;
rmSync(out, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { hazardwatch: 'cli/main.ts' },
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  metafile: true,
  logLevel: 'warning',
});
mkdirSync(out, { recursive: true });
const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/'));
writeFileSync(`${out}/inputs.json`, JSON.stringify({ inputs }));
