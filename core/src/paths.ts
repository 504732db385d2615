import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The checkout's root. This module sits two directories below it in the sources
 * (core/src) and in the build (its code is in a chunk of dist/server, scripts/build-server.mjs),
 * so files shipped beside the code are found from either.
 */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** A path inside the checkout, e.g. `fromRoot('core/data')`. */
export const fromRoot = (...parts: string[]): string => join(ROOT, ...parts);
