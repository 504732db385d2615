import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCatalogue, type Catalogue } from '../core/src/agents.ts';
import { loadRegistryFile, RegistryHolder } from '../core/src/registry.ts';

const ROOT = new URL('..', import.meta.url).pathname;
let catalogue: Catalogue | undefined;

/** The demo registry and catalogue, loaded once per test file. */
export function demo() {
  catalogue ??= loadCatalogue();
  const registry = new RegistryHolder(loadRegistryFile(join(ROOT, 'examples/registry.yaml'), catalogue));
  return { catalogue, registry };
}

export const tempDir = (prefix = 'hw-test-') => mkdtempSync(join(tmpdir(), prefix));
