/**
 * Stable shard ownership: worker k of N owns the enterprises whose FNV-1a 32-bit hash
 * of the id is k modulo N. Stable across processes, restarts and Node versions.
 */
import { fnv1a } from '../../core/src/fnv1a.ts';

export { fnv1a };

export function parseShard(spec: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new Error(`--shard must be k/N with 0 <= k < N, got "${spec}"`);
  return { index, count };
}

export function shardOwner(spec: { index: number; count: number }): (enterpriseId: string) => boolean {
  return (enterpriseId) => fnv1a(enterpriseId) % spec.count === spec.index;
}
