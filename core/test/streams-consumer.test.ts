import { spawn } from 'node:child_process';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisWithClient, stopRedisWithClient, type TestRedis } from '../../test/redis.ts';
import { waitFor } from '../../test/ports.ts';
import { createPartitionedLog } from '../src/streams/partitioned-log.ts';
import type { DeadLetter } from '../src/streams/group-consumer.ts';
import type { StreamEntry } from '../src/streams/stream-entry.ts';

interface Msg { seq: number }

let server: TestRedis;
let redis: Redis;
beforeAll(async () => ({ server, redis } = await startRedisWithClient()));
afterAll(() => stopRedisWithClient({ server, redis }));

const ref = (e: StreamEntry<unknown>) => `${e.partition}/${e.id}`;

describe('stream consumer groups: failures (real redis-server)', () => {
  it('a consumer killed with SIGKILL mid-batch: another claims its pending entries, every entry processed once after ack', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'kill', partitions: 2, groups: ['ingest'], maxBacklog: 100_000 });
    await log.start();
    const N = 200;
    const appended: string[] = [];
    for (let i = 0; i < N; i++) {
      const key = `ent-${i % 9}`;
      appended.push(`${log.partitionOf(key)}/${await log.append(key, { seq: i })}`);
    }
    const child = spawn(process.execPath, ['--import', 'tsx', new URL('./fixtures/streams-consumer.ts', import.meta.url).pathname, server.url, 'kill', '2', 'ingest', 'doomed'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    await waitFor(() => out.split('\n').some((l) => l.startsWith('[')), { what: 'the doomed consumer to take a batch', timeoutMs: 30_000 });
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
    const takenByDoomed = out.split('\n').filter((l) => l.startsWith('[')).flatMap((l) => JSON.parse(l) as string[]);
    expect(takenByDoomed.length).toBeGreaterThan(0);
    const pendingBefore = (await redis.call('XPENDING', 'kill:0', 'ingest')) as [number];
    const pendingBefore1 = (await redis.call('XPENDING', 'kill:1', 'ingest')) as [number];
    expect(Number(pendingBefore[0]) + Number(pendingBefore1[0])).toBe(takenByDoomed.length);

    const processed: string[] = [];
    const survivor = log.consume('ingest', 'survivor', async (b) => { processed.push(...b.map(ref)); }, { claimIdleMs: 300, claimIntervalMs: 100, blockMs: 100 });
    await survivor.start();
    await waitFor(() => processed.length >= N, { what: 'the survivor to process everything' });
    await new Promise((r) => setTimeout(r, 500)); // another claim round: nothing more may come
    expect(processed.length).toBe(N);
    expect(new Set(processed)).toEqual(new Set(appended));
    expect(survivor.stats().claimed).toBe(takenByDoomed.length);
    await survivor.stop();
    // Restarted under the same name, it has nothing pending and nothing new: processes nothing twice.
    const again: string[] = [];
    const restarted = log.consume('ingest', 'survivor', async (b) => { again.push(...b.map(ref)); }, { claimIdleMs: 300, claimIntervalMs: 100, blockMs: 100 });
    await restarted.start();
    await new Promise((r) => setTimeout(r, 600));
    await restarted.stop();
    expect(again).toEqual([]);
    for (let p = 0; p < 2; p++) expect(await log.backlog(p)).toBe(0);
    await log.stop();
  });

  it('a handler that throws never acknowledges: the batch is retried, a poison entry goes to the dead-letter stream after maxDeliveries', async () => {
    const dead: DeadLetter[] = [];
    const log = createPartitionedLog<Msg>({ redis, onDeadLetter: (d) => dead.push(d) }, { name: 'poison', partitions: 1, groups: ['rules'], maxBacklog: 100_000 });
    await log.start();
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await log.append('e', { seq: i }));
    const calls = new Map<number, number>();
    const done = new Set<number>();
    const c = log.consume('rules', 'w', async (b) => {
      for (const e of b) calls.set(e.payload.seq, (calls.get(e.payload.seq) ?? 0) + 1);
      if (b.some((e) => e.payload.seq === 4)) throw new Error('cannot handle seq 4');
      for (const e of b) done.add(e.payload.seq);
    }, { maxDeliveries: 3, retryDelayMs: 50, blockMs: 100 });
    await c.start();
    await waitFor(() => dead.length === 1 && done.size === 9, { what: 'dead letter and the rest handled' });
    expect(calls.get(4)).toBe(3); // delivered maxDeliveries times, then dead-lettered
    expect(dead[0]).toMatchObject({ stream: 'poison:0', id: ids[4], group: 'rules', consumer: 'w', deliveries: 4 });
    const dl = (await redis.call('XRANGE', 'poison:dead', '-', '+')) as [string, string[]][];
    expect(dl.length).toBe(1);
    const fields = dl[0]![1];
    expect(fields[fields.indexOf('id') + 1]).toBe(ids[4]);
    expect(JSON.parse(fields[fields.indexOf('d') + 1]!)).toEqual({ seq: 4 });
    expect(c.stats().deadLettered).toBe(1);
    for (let i = 0; i < 10; i++) if (i !== 4) expect(done.has(i)).toBe(true);
    await c.stop();
    expect(await log.backlog(0)).toBe(0);
    await log.stop();
  });

  it('resumes from its own pending entries at restart, before new ones', async () => {
    const log = createPartitionedLog<Msg>({ redis }, { name: 'resume', partitions: 1, groups: ['rules'], maxBacklog: 100_000 });
    await log.start();
    for (let i = 0; i < 5; i++) await log.append('e', { seq: i });
    const first = log.consume('rules', 'r0', async () => { throw new Error('down'); }, { retryDelayMs: 60_000, blockMs: 100 });
    await first.start();
    await waitFor(() => first.stats().failedBatches === 1, { what: 'a failed batch' });
    await first.stop();
    for (let i = 5; i < 8; i++) await log.append('e', { seq: i });
    const batches: number[][] = [];
    const second = log.consume('rules', 'r0', async (b) => { batches.push(b.map((e) => e.payload.seq)); }, { blockMs: 100 });
    await second.start();
    await waitFor(() => batches.flat().length >= 8, { what: 'all eight' });
    expect(batches[0]).toEqual([0, 1, 2, 3, 4]);
    expect(batches.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await second.stop();
    await log.stop();
  });
});
