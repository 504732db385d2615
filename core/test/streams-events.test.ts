import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisWithClient, stopRedisWithClient, type TestRedis } from '../../test/redis.ts';
import { waitFor } from '../../test/ports.ts';
import { createEventStream } from '../src/streams/event-stream.ts';
import type { StreamEntry } from '../src/streams/stream-entry.ts';

interface AlertEvent { alert: string; n: number }

let server: TestRedis;
let redis: Redis;
beforeAll(async () => ({ server, redis } = await startRedisWithClient()));
afterAll(() => stopRedisWithClient({ server, redis }));

describe('fan-out event stream (real redis-server)', () => {
  it('every replica sees every event in order with the same ids; a client resumes from any id with a bounded replay', async () => {
    const events = createEventStream<AlertEvent>({ redis }, { key: 'alerts', maxReplay: 50 });
    const replicaA: StreamEntry<AlertEvent>[] = [];
    const replicaB: StreamEntry<AlertEvent>[] = [];
    const fa = events.follow('0-0', (e) => { replicaA.push(...e); }, {});
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) ids.push(await events.append({ alert: `a${n % 3}`, n }));
    // A replica that starts later from '$' sees only what comes after it started.
    const fb = events.follow('$', (e) => { replicaB.push(...e); });
    await new Promise((r) => setTimeout(r, 200));
    for (let n = 20; n < 25; n++) ids.push(await events.append({ alert: 'late', n }));
    await waitFor(() => replicaA.length === 25 && replicaB.length === 5, { what: 'both replicas' });
    expect(replicaA.map((e) => e.id)).toEqual(ids);
    expect(replicaA.map((e) => e.payload.n)).toEqual([...Array(25).keys()]);
    expect(replicaB.map((e) => e.id)).toEqual(ids.slice(20));
    await fa.stop();
    await fb.stop();

    const r = await events.replay(ids[9], 5);
    expect(r.events.map((e) => e.id)).toEqual(ids.slice(10, 15));
    expect(r.more).toBe(true);
    expect(r.gap).toBe(false);
    const tail = await events.replay(ids[24]);
    expect(tail).toMatchObject({ events: [], more: false, gap: false });
    expect(await events.lastId()).toBe(ids[24]);
    // An id newer than anything in the stream (Redis lost its data, or another server): snapshot.
    const [ms] = ids[24]!.split('-');
    expect((await events.replay(`${Number(ms) + 60_000}-0`)).gap).toBe(true);
    await expect(events.replay(ids[0], 51)).rejects.toMatchObject({ code: 'HW_ERR_BAD_RANGE' });
    for (const bad of ['', 'abc', '1-2-3', '12', 42, null, '1'.repeat(21) + '-0', '1-0 OR 1']) {
      await expect(events.replay(bad)).rejects.toMatchObject({ code: 'HW_ERR_BAD_EVENT_ID' });
    }
  });

  it('tells a client its id is older than what was kept (gap), so it loads a snapshot', async () => {
    const events = createEventStream<AlertEvent>({ redis }, { key: 'alerts-small', retain: 10 });
    const ids: string[] = [];
    for (let n = 0; n < 1000; n++) ids.push(await events.append({ alert: 'x', n }));
    const len = await redis.xlen('alerts-small');
    expect(len).toBeLessThan(1000); // MAXLEN ~ trimmed whole nodes
    expect((await events.replay(ids[0])).gap).toBe(true);
    expect((await events.replay('0-0')).gap).toBe(true);
    const recent = await events.replay(ids[998]);
    expect(recent).toMatchObject({ gap: false, more: false });
    expect(recent.events.map((e) => e.id)).toEqual([ids[999]]);
  });
});
