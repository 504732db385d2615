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

  it('two live consumers take over a dead one\'s older entries once each, in order, and never each other\'s while they wait', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'dead3', partitions: 1, groups: ['ingest'], maxBacklog: 100_000 });
    await log.start();
    for (let i = 0; i < 60; i++) await log.append('ent-1', { seq: i });
    // A consumer that took the first eight and died.
    await redis.call('XREADGROUP', 'GROUP', 'ingest', 'dead', 'COUNT', '8', 'STREAMS', 'dead3:0', '>');
    const handled: number[] = [];
    const handler = async (batch: StreamEntry<Msg>[]) => {
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      handled.push(...batch.map((e) => e.payload.seq));
    };
    // claimIdleMs 300: the live ones wait past it, so they would take each other's entries if they let them look idle.
    const opts = { count: 4, blockMs: 50, claimIdleMs: 300, claimIntervalMs: 100, ordered: true };
    const a = log.consume('ingest', 'a', handler, opts);
    const b = log.consume('ingest', 'b', handler, opts);
    await a.start();
    await b.start();
    await waitFor(() => handled.length >= 60 || undefined, { what: '60 handled', timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 500)); // a duplicate would arrive meanwhile
    expect(handled).toEqual(Array.from({ length: 60 }, (_, i) => i));
    expect(a.stats().claimed + b.stats().claimed).toBe(8);
    await a.stop();
    await b.stop();
    await log.stop();
  });

  it('a failing handler: its entries are retried first and the rest of the partition waits behind them, each handled once after it succeeds', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'fails', partitions: 1, groups: ['ingest'], maxBacklog: 100_000 });
    await log.start();
    const handled: number[] = [];
    let failures = 0;
    const handler = async (batch: StreamEntry<Msg>[]) => {
      await new Promise((r) => setTimeout(r, Math.random() * 3));
      // Seq 10 fails twice (a full disk for a moment).
      if (batch.some((e) => e.payload.seq === 10) && failures < 2) {
        failures++;
        throw new Error('spool full (test)');
      }
      handled.push(...batch.map((e) => e.payload.seq));
    };
    const opts = { count: 3, blockMs: 50, retryDelayMs: 50, deadLetterFailures: false, ordered: true };
    const a = log.consume('ingest', 'a', handler, opts);
    const b = log.consume('ingest', 'b', handler, opts);
    await a.start();
    await b.start();
    for (let i = 0; i < 40; i++) await log.append('ent-1', { seq: i });
    await waitFor(() => handled.length >= 40 || undefined, { what: '40 handled', timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    expect(failures).toBe(2);
    expect(handled).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await a.stop();
    await b.stop();
    await log.stop();
  });

  it('a partition waiting behind a dead consumer\'s entries holds up neither the other partitions nor new reads', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'stuck', partitions: 2, groups: ['ingest'], maxBacklog: 100_000 });
    await log.start();
    // Two keys in different partitions.
    const k0 = Array.from({ length: 50 }, (_, i) => `ent-${i}`).find((k) => log.partitionOf(k) === 0)!;
    const k1 = Array.from({ length: 50 }, (_, i) => `ent-${i}`).find((k) => log.partitionOf(k) === 1)!;
    await log.append(k0, { seq: 0 });
    await redis.call('XREADGROUP', 'GROUP', 'ingest', 'dead', 'COUNT', '1', 'STREAMS', 'stuck:0', '>');
    const handled: { key: string; seq: number }[] = [];
    // claimIdleMs far longer than the test needs for partition 1: the dead entry is taken over only after.
    const c = log.consume('ingest', 'live', async (batch) => void handled.push(...batch.map((e) => ({ key: e.key, seq: e.payload.seq }))), { count: 4, blockMs: 200, claimIdleMs: 8000, claimIntervalMs: 60_000, ordered: true });
    await c.start();
    for (let i = 1; i <= 20; i++) await log.append(k0, { seq: i }); // wait behind the dead one's entry
    for (let i = 1; i <= 40; i++) await log.append(k1, { seq: i }); // free to go, read in several rounds
    await waitFor(() => handled.filter((h) => h.key === k1).length >= 40 || undefined, { what: 'partition 1 handled while partition 0 waits', timeoutMs: 7000 });
    expect(handled.filter((h) => h.key === k0)).toEqual([]);
    expect(c.stats().claimed).toBe(0);
    // Then the dead one's entry is taken over, and partition 0 follows in order.
    await waitFor(() => handled.filter((h) => h.key === k0).length >= 21 || undefined, { what: 'partition 0 after the takeover', timeoutMs: 15_000 });
    expect(handled.filter((h) => h.key === k0).map((h) => h.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i));
    await c.stop();
    await log.stop();
  });
});
