/**
 * FNV-1a 32-bit hash of a string's UTF-16 code units (offset basis 0x811c9dc5, prime
 * 0x01000193). Stable across processes, restarts and Node versions, so every process
 * that places an enterprise (ingest shards, stream partitions) agrees where it goes.
 */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
