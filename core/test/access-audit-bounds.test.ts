import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/logger.ts';
import { ACCESS_EVENT_SLOTS, accessEventLine, createAccessEventSlots } from '../src/store/line-protocol.ts';
import { createSqliteStore } from '../src/store/sqlite-store.ts';
import type { AccessEvent } from '../src/store/store.ts';
import { tempDir } from '../../test/fixtures.ts';

/**
 * The login audit cannot grow without bound (review 1, finding 3): in InfluxDB what a
 * client types (username, address) is a field, never a tag, so series stay bounded; the
 * embedded store deletes what is past its age and row caps on write.
 */
describe('login audit bounds', () => {
  const dir = tempDir('hw-access-cap-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the username and address as fields, with a bounded slot tag', () => {
    const e: AccessEvent = { ts: 1764000000000, kind: 'login-failed', username: 'x y,z=1\n"q"', address: '203.0.113.7', reason: 'HW_ERR_BAD_LOGIN' };
    const line = accessEventLine(e, 7);
    // The series key is everything before the first unescaped space.
    const key = line.slice(0, line.search(/(?<!\\) /));
    expect(key).toBe('access_event,kind=login-failed,slot=7');
    expect(line).toContain('address="203.0.113.7"');
    expect(line).not.toContain('\n');
    const slot = createAccessEventSlots(8);
    const slots = Array.from({ length: 3 * ACCESS_EVENT_SLOTS }, () => slot(e.ts));
    expect(slots.slice(0, 3)).toEqual([0, 1, 2]);
    expect(Math.max(...slots)).toBe(ACCESS_EVENT_SLOTS - 1);
    expect(slot(e.ts + 1)).toBe(0);
  });

  it('keeps at most maxRows access events and none older than maxAgeMs in the embedded store', async () => {
    const now = 1764000000000;
    const store = createSqliteStore(dir, silentLogger(), { accessEventCap: { maxRows: 10, maxAgeMs: 60_000 }, now: () => now });
    await store.start();
    try {
      await store.writeAccessEvents([{ ts: now - 120_000, kind: 'login', username: 'old', address: '10.0.0.1' }]);
      expect(await store.queryAccessEvents({ since: 0, until: now, limit: 100 })).toEqual([]);
      for (let i = 0; i < 25; i++) await store.writeAccessEvents([{ ts: now - 1000 + i, kind: 'login-failed', username: `u${i}`, address: '10.0.0.2' }]);
      const back = await store.queryAccessEvents({ since: 0, until: now, limit: 100 });
      expect(back.map((e) => e.username)).toEqual(Array.from({ length: 10 }, (_, i) => `u${24 - i}`));
    } finally {
      await store.stop();
    }
  });
});
