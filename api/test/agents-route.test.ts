import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { buildApp, type HazardwatchApp } from '../src/app.ts';

describe('GET /api/agents', () => {
  const dir = tempDir('hw-agents-');
  const { registry, catalogue } = demo();
  let store: Store;
  let hw: HazardwatchApp;
  beforeAll(async () => {
    store = createSqliteStore(dir, silentLogger());
    await store.start();
    hw = buildApp({ registry, store, catalogue, logger: silentLogger(), metrics: createMetrics(), actions: { run: () => undefined }, sessionTtlMs: 60_000, dashboardDir: dir });
    await hw.app.ready();
  });
  afterAll(async () => {
    await hw.app.close();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives every catalogue agent its Chinese and English name (logged-in users only)', async () => {
    expect((await hw.app.inject({ method: 'GET', url: '/api/agents' })).statusCode).toBe(401);
    const { token } = (await hw.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'officer', password: 'hazardwatch' } })).json() as { token: string };
    const res = await hw.app.inject({ method: 'GET', url: '/api/agents', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const agents = res.json() as { key: string; name: string; nameEn: string; unit: string }[];
    expect(agents).toHaveLength(catalogue.agents.size);
    expect(agents.find((a) => a.key === 'gas.h2s')).toEqual({ key: 'gas.h2s', name: '硫化氢', nameEn: expect.stringMatching(/hydrogen sul/i), kind: 'gas', unit: 'mg/m3' });
  });
});
