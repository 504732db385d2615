/**
 * One owner per partition: a rules worker holds a Redis lease on each partition it owns
 * (`SET key holder NX PX ttl`, renewed every ttl/3) before it consumes or answers for it,
 * so a second process started with the same `--worker k/N` (a rolling deploy, a typo)
 * waits instead of splitting an enterprise's readings between two engines. A worker that
 * finds a lease taken from it has lost ownership: `onLost` stops it.
 */
import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

const RENEW_LUA = `
local n = 0
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    n = n + 1
  end
end
return n`;
const RELEASE_LUA = `
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1`;

export interface PartitionLeases {
  /** Waits until every lease is held (logging who holds the others), or `signal` aborts. */
  acquire(signal?: AbortSignal): Promise<void>;
  release(): Promise<void>;
}

export function createPartitionLeases(redis: Redis, opts: { name: string; partitions: readonly number[]; ttlMs?: number; onWaiting: (holders: Record<number, string>) => void; onLost: (lost: number) => void; label: string }): PartitionLeases {
  const ttlMs = opts.ttlMs ?? 15_000;
  // Unique per process: a restarted worker waits for its dead predecessor's lease to expire.
  const holder = `${opts.label}:${randomUUID().slice(0, 8)}`;
  const keys = opts.partitions.map((p) => `hw:lease:${opts.name}:${p}`);
  let timer: NodeJS.Timeout | undefined;

  const renew = async () => {
    try {
      const n = Number(await redis.eval(RENEW_LUA, keys.length, ...keys, holder, String(ttlMs)));
      if (n < keys.length) opts.onLost(keys.length - n);
    } catch {
      // Redis unreachable: the lease runs out after ttlMs unless a later renewal succeeds.
    }
  };

  return {
    async acquire(signal) {
      for (let round = 0; !signal?.aborted; round++) {
        const pipe = redis.pipeline();
        for (const k of keys) pipe.set(k, holder, 'PX', ttlMs, 'NX');
        for (const k of keys) pipe.get(k);
        const res = (await pipe.exec()) ?? [];
        const holders = res.slice(keys.length).map(([, v]) => v as string | null);
        if (holders.every((h) => h === holder)) {
          timer = setInterval(() => void renew(), Math.floor(ttlMs / 3));
          timer.unref();
          return;
        }
        // Keep what we hold alive while we wait for the rest.
        await redis.eval(RENEW_LUA, keys.length, ...keys, holder, String(ttlMs)).catch(() => undefined);
        if (round % 5 === 0) opts.onWaiting(Object.fromEntries(opts.partitions.flatMap((p, i) => (holders[i] && holders[i] !== holder ? [[p, holders[i]!]] : []))));
        await sleep(1000);
      }
    },
    async release() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await redis.eval(RELEASE_LUA, keys.length, ...keys, holder).catch(() => undefined);
    },
  };
}

/**
 * Every service of a deployment must use the same number of partitions: the first to start
 * records it, and a service configured otherwise refuses to start.
 */
export async function checkPartitionCount(redis: Redis, partitions: number): Promise<number> {
  await redis.set('hw:config:partitions', String(partitions), 'NX');
  return Number(await redis.get('hw:config:partitions'));
}
