// `npm run build` (with the dashboard): the services as plain JavaScript in dist/server/,
// so `bin/hazardwatch.js` runs them without compiling TypeScript at start-up. tsx's loader
// runs on a thread of its own (Node 20 module hooks) with its own heap: ~45 MB of RSS per
// process, six processes in the split deployment (BENCHMARKS.md, issue 13).
//
// One ESM bundle of cli/main.ts with code splitting (each service loads only its own
// part: the broker never loads the API), npm packages left to node_modules. Source maps
// beside it: NODE_OPTIONS=--enable-source-maps maps stack traces to the TypeScript.
//
// Processes may be starting from dist/server while it is rebuilt (a running `npm start`
// during `npm test`): every file is written to a temporary name and renamed into place
// (chunks, whose names are content hashes, first; the entry next; inputs.json last), and
// files of earlier builds are removed only once they are an hour old, so a process that
// loaded an older entry still finds the chunks it imports later.
// dist/server/inputs.json records each source's size and mtime (bin/build-fresh.js runs the
// build only while they are exactly so).
import { build } from 'esbuild';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist/server');
/** Not imported by the bundle, but they change what it is. */
const ALSO_INPUTS = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/build-server.mjs'];
const KEEP_OLD_MS = 3600_000;

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
  write: false,
  logLevel: 'warning',
});
mkdirSync(out, { recursive: true });
const place = (path, contents) => {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, contents);
  renameSync(tmp, path);
};
const entry = join(out, 'hazardwatch.js');
const files = [...result.outputFiles].sort((a, b) => (a.path === entry) - (b.path === entry));
for (const f of files) place(f.path, f.contents);
const inputs = [...Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/')), ...ALSO_INPUTS]
  .map((path) => {
    const st = statSync(join(root, path));
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  });
place(join(out, 'inputs.json'), JSON.stringify({ inputs }));
const current = new Set([...files.map((f) => basename(f.path)), 'inputs.json']);
for (const name of readdirSync(out)) {
  const path = join(out, name);
  if (!current.has(name) && Date.now() - statSync(path).mtimeMs > KEEP_OLD_MS) rmSync(path, { force: true });
}
