#!/usr/bin/env -S node --max-semi-space-size=32
// --max-semi-space-size=32 (MB): a larger young generation means fewer scavenges on the ingest
// path; +10 % readings/s stored in 50-reading batches on 2 cores (BENCHMARKS.md).
//
// Runs the build (dist/server, `npm run build`) when it is newer than every source it was
// made from; otherwise the TypeScript sources through tsx (a checkout being edited). Both
// are the same code: the build only saves tsx's loader thread (~45 MB per process).
import { buildIsFresh } from './build-fresh.js';

let main;
if (buildIsFresh(new URL('../', import.meta.url))) {
  ({ main } = await import('../dist/server/hazardwatch.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../cli/main.ts'));
}
const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
