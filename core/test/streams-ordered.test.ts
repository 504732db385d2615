import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisWithClient, stopRedisWithClient, type TestRedis } from '../../test/redis.ts';
import { waitFor } from '../../test/ports.ts';
import { createPartitionedLog } from '../src/streams/partitioned-log.ts';
import type { StreamEntry } from '../src/streams/stream-entry.ts';

interface Msg { seq: number }

let server: TestRedis;
let redis: Redis;
beforeAll(async () => ({ server, redis } = await startRedisWithClient()));
afterAll(() => stopRedisWithClient({ server, redis }));

/** Two consumers of one group whose handlers take random times; how often one handled a message older than one already handled. */
async function race(name: string, ordered: boolean): Promise<{ handled: number; inversions: number; shared: boolean }> {
  const log = createPartitionedLog<Msg>({ redis }, { name, partitions: 2, groups: ['ingest'], maxBacklog: 100_000 });
  await log.start();
  let newest = -1;
  let inversions = 0;
  const seen = new Set<number>();
  const handler = async (batch: StreamEntry<Msg>[]) => {
    // Work that takes a varying time (a spool append, a forward to Redis) before the output.
    await new Promise((r) => setTimeout(r, Math.random() * 8));
    for (const e of batch) {
      if (e.payload.seq < newest) inversions++;
      newest = Math.max(newest, e.payload.seq);
      seen.add(e.payload.seq);
    }
  };
  const a = log.consume('ingest', 'w1', handler, { count: 3, blockMs: 50, ordered });
  const b = log.consume('ingest', 'w2', handler, { count: 3, blockMs: 50, ordered });
  await a.start();
  await b.start();
  const N = 400;
  // One enterprise: every message in the same partition, appended one by one as a gateway would send them.
  for (let i = 0; i < N; i++) {
    await log.append('ent-1', { seq: i });
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  await waitFor(() => seen.size >= N || undefined, { what: `${N} messages handled`, timeoutMs: 30_000 });
  await a.stop();
  await b.stop();
  await log.stop();
  return { handled: seen.size, inversions, shared: a.stats().acked > 0 && b.stats().acked > 0 };
}

describe('ordered consumers (real redis-server)', () => {
  it('two consumers of one group hand a partition\'s entries to their handlers in stream order, with the work shared', async () => {
    const r = await race('ordered', true);
    expect(r.handled).toBe(400);
    expect(r.inversions).toBe(0);
    expect(r.shared).toBe(true);
  });

  it('without `ordered` the same two consumers do not keep that order (what ordered mode is for)', async () => {
    const r = await race('unordered', false);
    expect(r.handled).toBe(400);
    expect(r.inversions).toBeGreaterThan(0);
  });

  it('takes over, first and in order, an older entry a dead consumer left pending once it has been idle claimIdleMs', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'orphan', partitions: 1, groups: ['ingest'], maxBacklog: 100_000 });
    await log.start();
    for (let i = 0; i < 10; i++) await log.append('ent-1', { seq: i });
    // A consumer that took the first two entries and died without acknowledging them.
    await redis.call('XREADGROUP', 'GROUP', 'ingest', 'dead', 'COUNT', '2', 'STREAMS', 'orphan:0', '>');
    const order: number[] = [];
    const c = log.consume('ingest', 'live', async (batch) => void order.push(...batch.map((e) => e.payload.seq)), { count: 5, blockMs: 50, claimIdleMs: 300, claimIntervalMs: 60_000, ordered: true });
    await c.start();
    await waitFor(() => order.length >= 10 || undefined, { what: 'all 10 handled', timeoutMs: 10_000 });
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(c.stats().claimed).toBe(2);
    await c.stop();
    await log.stop();
  });
});
