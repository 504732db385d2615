import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../ports.ts';
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../redis.ts';
import { spawnHw, startHw, type SpawnedHw } from '../spawn-all.ts';

/**
 * One owner per partition (core/src/streams/partition-lease.ts): a second `hazardwatch
 * rules --worker 0/2` waits for the first's leases instead of splitting enterprises'
 * readings between two engines, and takes over once the first is gone; a service
 * configured with another partition count than the deployment's refuses to start.
 */
describe('rules partition leases and the deployment partition count', () => {
  let redis: TestRedis | undefined;
  let client: Redis | undefined;
  const procs: SpawnedHw[] = [];
  afterAll(async () => {
    for (const p of procs.reverse()) await p.stop('SIGKILL');
    client?.disconnect();
    await redis?.stop();
  });

  it('a second process with the same --worker waits for the leases, then takes over when the first dies', async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    const env = { HW_STREAMS_REDIS_URL: redis.url, HW_INFLUX_URL: inject('influxUrl'), HW_INFLUX_DATABASE: `lease_${Date.now()}` };
    const first = await spawnHw(['rules', '--worker', '0/2'], env);
    procs.push(first);
    const second = startHw(['rules', '--worker', '0/2'], env);
    await waitFor(() => second.logs.some((l) => l.includes('partitions held by another rules process')) || undefined, { what: 'the second process waiting for the leases' });
    expect(second.logs.some((l) => l.includes('"msg":"ready"'))).toBe(false);
    const holder = await client!.get('hw:lease:rules:0');
    expect(holder).toMatch(/^rules-0of2:/);

    await first.stop('SIGKILL');
    // The dead process's leases run out (15 s), then the second holds them and is ready.
    const taken = await second.spawned;
    procs.push(taken);
    expect(await client!.get('hw:lease:rules:0')).not.toBe(holder);
    // Partitions 0, 2, 4, 6 of 8 for worker 0 of 2.
    expect(taken.ready.partitions).toEqual([0, 2, 4, 6]);
  });

  it("refuses to start a service whose HW_STREAMS_PARTITIONS differs from the deployment's", async () => {
    const env = { HW_STREAMS_REDIS_URL: redis!.url, HW_STREAMS_PARTITIONS: '4', HW_INFLUX_URL: inject('influxUrl'), HW_INFLUX_DATABASE: `lease_${Date.now()}` };
    const err = await spawnHw(['api'], env).then(() => undefined, (e: Error) => e);
    expect(err?.message).toContain('HW_STREAMS_PARTITIONS is 4 here but 8 for this deployment');
  });
});
