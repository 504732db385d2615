import { HwError } from './errors.ts';

/**
 * A rules worker's share of the partitions: worker k of N (`hazardwatch rules --worker k/N`)
 * owns the partitions p with p mod N = k, so every partition has exactly one owner and
 * one enterprise's sensors live in one worker (partition = FNV-1a(enterprise) mod P).
 */
export interface WorkerShare {
  index: number;
  count: number;
}

export function parseWorkerShare(spec: string): WorkerShare {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(spec);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index >= count) throw new HwError('HW_ERR_CONFIG', `--worker must be k/N with 0 <= k < N, got ${JSON.stringify(spec.slice(0, 20))}`);
  return { index, count };
}

/** The partitions of P that worker k of N owns; a worker owning none is a configuration error (N > P). */
export function ownedPartitions(share: WorkerShare, partitions: number): number[] {
  const own = Array.from({ length: partitions }, (_, p) => p).filter((p) => p % share.count === share.index);
  if (own.length === 0) throw new HwError('HW_ERR_CONFIG', `rules worker ${share.index}/${share.count} owns no partition of ${partitions} (HW_STREAMS_PARTITIONS): run at most ${partitions} rules workers`);
  return own;
}
