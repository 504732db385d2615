import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisWithClient, stopRedisWithClient, type TestRedis } from '../../test/redis.ts';
import { waitFor } from '../../test/ports.ts';
import { fnv1a } from '../src/fnv1a.ts';
import { HwError } from '../src/errors.ts';
import { createPartitionedLog } from '../src/streams/partitioned-log.ts';
import type { StreamEntry } from '../src/streams/stream-entry.ts';

interface Msg { e: string; seq: number }

let server: TestRedis;
let redis: Redis;
beforeAll(async () => ({ server, redis } = await startRedisWithClient()));
afterAll(() => stopRedisWithClient({ server, redis }));

const ids = (xs: readonly unknown[]) => xs.map((x) => (x as [string])[0]);

describe('partitioned stream log (real redis-server)', () => {
  it('routes each key to FNV-1a(key) mod P and delivers every append exactly once to one group of two consumers', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'once', partitions: 4, groups: ['ingest'], maxBacklog: 100_000 });
    await log.start();
    const seen: StreamEntry<Msg>[] = [];
    const handler = async (b: StreamEntry<Msg>[]) => { seen.push(...b); };
    const a = log.consume('ingest', 'w1', handler, { count: 50, blockMs: 100 });
    const b = log.consume('ingest', 'w2', handler, { count: 50, blockMs: 100 });
    await a.start();
    await b.start();
    const N = 3000;
    const appended = await Promise.all(Array.from({ length: N }, (_, i) => log.append(`ent-${i % 37}`, { e: `ent-${i % 37}`, seq: i })));
    // Ids are unique within a stream (partition), not across streams.
    expect(new Set(appended.map((id, i) => `${log.partitionOf(`ent-${i % 37}`)}/${id}`)).size).toBe(N);
    await waitFor(() => seen.length >= N, { what: 'all entries consumed' });
    await new Promise((r) => setTimeout(r, 300)); // a duplicate would arrive meanwhile
    expect(seen.length).toBe(N);
    expect(new Set(seen.map((s) => s.payload.seq)).size).toBe(N);
    for (const s of seen) {
      expect(s.partition).toBe(fnv1a(s.key) % 4);
      expect(s.key).toBe(s.payload.e);
    }
    await a.stop();
    await b.stop();
    expect(a.stats().acked + b.stats().acked).toBe(N);
    for (let p = 0; p < 4; p++) expect(await log.backlog(p)).toBe(0);
    await log.stop();
  });

  it('packs up to maxPerEntry messages of one partition per entry: every message delivered once, in order per key', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'packed', partitions: 3, groups: ['ingest'], maxBacklog: 100_000, maxPerEntry: 50 });
    await log.start();
    const seen: StreamEntry<Msg>[] = [];
    const c = log.consume('ingest', 'w', async (b) => { seen.push(...b); }, { blockMs: 100 });
    await c.start();
    const N = 2000;
    const ids = await Promise.all(Array.from({ length: N }, (_, i) => log.append(`ent-${i % 13}`, { e: `ent-${i % 13}`, seq: i })));
    const entries = new Set(ids.map((id, i) => `${log.partitionOf(`ent-${i % 13}`)}/${id}`));
    expect(entries.size).toBeLessThan(N / 10); // packed: far fewer entries than messages
    let xlen = 0;
    for (let p = 0; p < 3; p++) xlen += await redis.xlen(`packed:${p}`);
    expect(xlen).toBe(entries.size);
    await waitFor(() => seen.length >= N, { what: 'all messages' });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.length).toBe(N);
    expect(new Set(seen.map((e) => e.payload.seq)).size).toBe(N);
    const last = new Map<string, number>();
    for (const e of seen) {
      expect(e.partition).toBe(fnv1a(e.key) % 3);
      expect(e.payload.seq).toBeGreaterThan(last.get(e.key) ?? -1);
      last.set(e.key, e.payload.seq);
    }
    expect(c.stats().acked).toBe(entries.size);
    await c.stop();
    await log.stop();
  });

  it('closes a packed entry at maxEntryChars, so one read of COUNT entries is bounded in bytes whatever size messages are', async () => {
    const log = createPartitionedLog<{ e: string; seq: number; pad: string }>({ redis }, { name: 'capped', partitions: 1, groups: ['ingest'], maxBacklog: 100_000, maxPerEntry: 50, maxEntryChars: 10_000 });
    await log.start();
    // 40 messages of ~3,000 characters: three fit in an entry, not 50.
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.append('k', { e: 'k', seq: i, pad: 'x'.repeat(3000) })));
    const entries = (await redis.xrange('capped:0', '-', '+')) as [string, string[]][];
    expect(entries.length).toBeGreaterThanOrEqual(Math.ceil(40 / 3));
    for (const [, fields] of entries) {
      const chars = fields.filter((_, i) => i % 4 === 3).reduce((n, d) => n + d.length, 0);
      expect(chars).toBeLessThanOrEqual(10_000);
    }
    // A message larger than the limit still goes, in an entry of its own.
    await log.append('k', { e: 'k', seq: 99, pad: 'y'.repeat(20_000) });
    const last = ((await redis.xrevrange('capped:0', '+', '-', 'COUNT', 1)) as [string, string[]][])[0]![1];
    expect(last.length).toBe(4);
    await log.stop();
  });

  it('refuses a bad configuration with HW_ERR_CONFIG naming the option', () => {
    const ok = { name: 'cfg', partitions: 2, groups: ['g'], maxBacklog: 10 };
    expect(() => createPartitionedLog({ redis }, { ...ok, partitions: 0 })).toThrow(/partitions must be an integer in 1…1024, got 0/);
    expect(() => createPartitionedLog({ redis }, { ...ok, maxBacklog: 0.5 })).toThrow(/maxBacklog/);
    expect(() => createPartitionedLog({ redis }, { ...ok, maxPerEntry: 0 })).toThrow(/maxPerEntry/);
    expect(() => createPartitionedLog({ redis }, { ...ok, name: 'a b' })).toThrow(/stream name/);
    expect(() => createPartitionedLog({ redis }, { ...ok, groups: ['x y'] })).toThrow(/group names/);
    const log = createPartitionedLog({ redis }, ok);
    const h = async () => undefined;
    expect(() => log.consume('g', 'c', h, { count: 0 })).toThrow(/count must be an integer/);
    expect(() => log.consume('g', 'c', h, { partitions: [2] })).toThrow(/partition 2 is not in 0…1/);
    expect(() => log.consume('g', 'c', h, { partitions: [] })).toThrow(/at least one partition/);
    expect(() => log.consume('g', 'c c', h)).toThrow(/consumer names/);
    let err: unknown;
    try { log.consume('g', 'c', h, { maxDeliveries: -1 }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(HwError);
    expect(err).toMatchObject({ code: 'HW_ERR_CONFIG' });
  });

  it('gives a worker only the partitions it owns, each key in order', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'own', partitions: 4, groups: ['rules'], maxBacklog: 100_000 });
    await log.start();
    const got = new Map<string, StreamEntry<Msg>[]>([['r0', []], ['r1', []]]);
    const r0 = log.consume('rules', 'r0', async (b) => { got.get('r0')!.push(...b); }, { partitions: [0, 1], blockMs: 100 });
    const r1 = log.consume('rules', 'r1', async (b) => { got.get('r1')!.push(...b); }, { partitions: [2, 3], blockMs: 100 });
    await r0.start();
    await r1.start();
    const N = 2000;
    for (let i = 0; i < N; i++) void log.append(`ent-${i % 23}`, { e: `ent-${i % 23}`, seq: i });
    await waitFor(() => got.get('r0')!.length + got.get('r1')!.length >= N, { what: 'all consumed' });
    expect(got.get('r0')!.every((e) => e.partition === 0 || e.partition === 1)).toBe(true);
    expect(got.get('r1')!.every((e) => e.partition === 2 || e.partition === 3)).toBe(true);
    expect(got.get('r0')!.length).toBeGreaterThan(0);
    expect(got.get('r1')!.length).toBeGreaterThan(0);
    for (const list of got.values()) {
      const last = new Map<string, number>();
      for (const e of list) {
        expect(e.payload.seq).toBeGreaterThan(last.get(e.key) ?? -1); // one sensor's readings in order
        last.set(e.key, e.payload.seq);
      }
    }
    const keysOf = (w: string) => new Set(got.get(w)!.map((e) => e.key));
    for (const k of keysOf('r0')) expect(keysOf('r1').has(k)).toBe(false);
    await r0.stop();
    await r1.stop();
    await log.stop();
  });

  it('refuses appends with HW_ERR_BACKLOG_FULL once a partition holds maxBacklog unconsumed entries, and accepts again once consumed', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'full', partitions: 1, groups: ['ingest'], maxBacklog: 10, maintainIntervalMs: 50 });
    await log.start();
    for (let i = 0; i < 10; i++) await log.append('e', { e: 'e', seq: i });
    const refused = await log.append('e', { e: 'e', seq: 10 }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(HwError);
    expect((refused as HwError).code).toBe('HW_ERR_BACKLOG_FULL');
    expect((refused as HwError).message).toContain('full:0 holds 10 unconsumed entries, limit 10');
    expect(log.stats().refused).toBe(1);
    expect(await log.backlog(0)).toBe(10);
    expect(await redis.xlen('full:0')).toBe(10); // the refused one never reached Redis
    await expect(log.append('', { e: '', seq: -1 })).rejects.toMatchObject({ code: 'HW_ERR_BAD_ID' });
    await expect(log.append('x'.repeat(257), { e: '', seq: -1 })).rejects.toMatchObject({ code: 'HW_ERR_BAD_ID' });
    // Delivered but not acknowledged still counts as unconsumed.
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    const c = log.consume('ingest', 'w', () => held, { blockMs: 100 });
    await c.start();
    await waitFor(() => c.stats().delivered === 10, { what: 'delivery' });
    await log.maintain();
    expect(await log.backlog(0)).toBe(10);
    await expect(log.append('e', { e: 'e', seq: 11 })).rejects.toMatchObject({ code: 'HW_ERR_BACKLOG_FULL' });
    release();
    await waitFor(() => c.stats().acked === 10, { what: 'acks' });
    await log.maintain();
    expect(await log.backlog(0)).toBe(0);
    await expect(log.append('e', { e: 'e', seq: 12 })).resolves.toMatch(/^\d+-\d+$/);
    await c.stop();
    await log.stop();
  });

  it('trims only entries every group has acknowledged: pending and undelivered entries stay', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'trim', partitions: 1, groups: ['a', 'b'], maxBacklog: 100_000, maintainIntervalMs: 60_000 });
    await log.start();
    const N = 5000;
    const all = await Promise.all(Array.from({ length: N }, (_, i) => log.append('e', { e: 'e', seq: i })));
    // Group a: 2,000 delivered, the first 1,500 acknowledged, 500 pending; 3,000 never delivered.
    const read = (await redis.call('XREADGROUP', 'GROUP', 'a', 'x', 'COUNT', '2000', 'STREAMS', 'trim:0', '>')) as [string, unknown[]][];
    const delivered = ids(read[0]![1]);
    await redis.call('XACK', 'trim:0', 'a', ...delivered.slice(0, 1500));
    // Group b has consumed nothing: nothing may be trimmed yet.
    await log.maintain();
    expect(await redis.xlen('trim:0')).toBe(N);
    // Group b catches up completely: now group a's position bounds the trim.
    const readB = (await redis.call('XREADGROUP', 'GROUP', 'b', 'y', 'COUNT', String(N), 'STREAMS', 'trim:0', '>')) as [string, unknown[]][];
    await redis.call('XACK', 'trim:0', 'b', ...ids(readB[0]![1]));
    await log.maintain();
    const left = ids((await redis.call('XRANGE', 'trim:0', '-', '+')) as unknown[]);
    expect(left.length).toBeLessThan(N); // consumed entries were trimmed…
    expect(left.length).toBeGreaterThanOrEqual(N - 1500);
    const present = new Set(left);
    for (const id of all.slice(1500)) expect(present.has(id)).toBe(true); // …and no unconsumed one
    expect(log.stats().trims).toBeGreaterThan(0);
    await log.stop();
  });

  it('maintains on a timer only once it has appended: a process that only consumes leaves backlog reads and trims to the producers', async () => {
    const config = { name: 'lazy', partitions: 1, groups: ['g'], maxBacklog: 100_000, maintainIntervalMs: 5 };
    // Two handles on one log, as in two processes: one only consumes, one appends.
    const consumerSide = createPartitionedLog<Msg>({ redis }, config);
    const producer = createPartitionedLog<Msg>({ redis }, config);
    await consumerSide.start();
    await producer.start();
    const c = consumerSide.consume('g', 'w', async () => {}, { blockMs: 100 });
    await c.start();
    for (let i = 0; i < 10; i++) await producer.append('e', { e: 'e', seq: i });
    await waitFor(() => c.stats().acked === 10, { what: 'acks' });
    // Every producer round trims (everything is acknowledged); the consumer side ran none.
    await waitFor(() => producer.stats().trims >= 20, { what: 'producer maintenance rounds' });
    expect(consumerSide.stats().trims).toBe(0);
    // Its first append starts its own rounds.
    await consumerSide.append('e', { e: 'e', seq: 10 });
    await waitFor(() => consumerSide.stats().trims >= 3, { what: 'consumer-side maintenance rounds after its first append' });
    await c.stop();
    await consumerSide.stop();
    await producer.stop();
  });
});
