import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.ts';
import { createStreamsTransport } from '../src/transport-streams.ts';
import type { Reading } from '../src/types.ts';
import { startRedis, type TestRedis } from '../../test/redis.ts';
import { waitFor } from '../../test/ports.ts';
import { Redis } from 'ioredis';

describe('streams transport: accepted readings in slices a reader takes (real redis-server)', () => {
  let server: TestRedis;
  beforeAll(async () => (server = await startRedis()));
  afterAll(() => server.stop());

  it('delivers all of a 12,000-reading hand-over (an ingest spool group) to the rules, none dead-lettered', async () => {
    const logger = silentLogger();
    const producer = createStreamsTransport({ redis: new Redis(server.url), logger, instance: 'ingest-a', partitions: 2, maxBacklog: 100_000 });
    const consumer = createStreamsTransport({ redis: new Redis(server.url), logger, instance: 'rules-a', partitions: 2, maxBacklog: 100_000 });
    const got: Reading[] = [];
    await consumer.subscribe('readings.accepted', (rs) => void got.push(...rs));
    await producer.start();
    await consumer.start();
    const t0 = Date.now() - 60_000;
    const readings: Reading[] = Array.from({ length: 12_000 }, (_, i) => ({ enterpriseId: 'e1', gatewayId: 'gw1', sensorId: 'e1.noise-1', agent: 'noise', ts: t0 + i, value: 80, unit: 'dB(A)', valueStd: 80 }));
    producer.publish('readings.accepted', readings);
    await producer.flush();
    await waitFor(() => got.length >= 12_000 || undefined, { what: '12,000 readings at the rules', timeoutMs: 15_000 });
    expect(got.map((r) => r.ts)).toEqual(readings.map((r) => r.ts));
    const check = new Redis(server.url);
    expect(await check.exists('hw:pipeline:dead')).toBe(0);
    check.disconnect();
    await consumer.close();
    await producer.close();
  });
});
