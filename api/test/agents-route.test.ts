import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HazardwatchApp } from '../src/app.ts';
import { startApp, stopApp, type AppFixture } from './app-fixture.ts';

describe('GET /api/agents', () => {
  let f: AppFixture;
  let hw: HazardwatchApp;
  beforeAll(async () => {
    f = await startApp('hw-agents-');
    hw = f.hw;
  });
  afterAll(() => stopApp(f));

  it('gives every catalogue agent its Chinese and English name (logged-in users only)', async () => {
    expect((await hw.app.inject({ method: 'GET', url: '/api/agents' })).statusCode).toBe(401);
    const { token } = (await hw.app.inject({ method: 'POST', url: '/api/login', payload: { username: 'officer', password: 'hazardwatch' } })).json() as { token: string };
    const res = await hw.app.inject({ method: 'GET', url: '/api/agents', headers: { authorization: `Bearer ${token}` } });
    expect(res.statusCode).toBe(200);
    const agents = res.json() as { key: string; name: string; nameEn: string; unit: string }[];
    expect(agents).toHaveLength(f.catalogue.agents.size);
    expect(agents.find((a) => a.key === 'gas.h2s')).toEqual({ key: 'gas.h2s', name: '硫化氢', nameEn: expect.stringMatching(/hydrogen sul/i), kind: 'gas', unit: 'mg/m3' });
  });
});
