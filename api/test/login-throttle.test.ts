import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../core/src/metrics.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { HazardwatchApp } from '../src/app.ts';
import { appOn, startStore, stopApp, type StoreFixture } from './app-fixture.ts';

/**
 * Login throttling against floods and lockouts (review 1, findings 3 and 4): a throttled
 * attempt is audited once per window per address or account and counted in a metric
 * (a flood of cheap 429s cannot fill the data directory); the per-account limit counts
 * failures only and spares the addresses that logged in to the account recently, so an
 * attacker naming `city` cannot keep the real user out of their usual address.
 */
describe('login throttling: flood and lockout', () => {
  let f: StoreFixture;
  let store: Store;
  const make = () => {
    const metrics = createMetrics();
    const hw = appOn(f, { metrics, settings: { loginThrottle: { perAccountPerMin: 5, perAddressPerMin: 12 } } });
    return { hw, metrics };
  };
  const attempt = (hw: HazardwatchApp, username: string, password: string, address: string) =>
    hw.app.inject({ method: 'POST', url: '/api/login', payload: { username, password }, remoteAddress: address });
  const rowsFrom = async (pred: (e: { username: string; address: string; reason?: string }) => boolean) =>
    (await store.queryAccessEvents({ since: 0, until: Date.now() + 1000, limit: 5000 })).filter(pred);
  const throttledCount = async (metrics: ReturnType<typeof createMetrics>) =>
    (await metrics.registry.getSingleMetric('hw_api_login_throttled_total')!.get()).values.reduce((n, v) => n + v.value, 0);

  beforeAll(async () => {
    f = await startStore('hw-login-throttle-');
    store = f.store;
  });
  afterAll(() => stopApp(f));

  it('audits 1,000 throttled logins from one address in a handful of rows, and counts them all in hw_api_login_throttled_total', async () => {
    const { hw, metrics } = make();
    await hw.app.ready();
    const statuses: number[] = [];
    for (let i = 0; i < 1000; i++) statuses.push((await attempt(hw, 'city', `guess-${i}`, '10.77.0.1')).statusCode);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    const rows = await rowsFrom((e) => e.address === '10.77.0.1');
    // 5 wrong passwords, then one row when the account limit refused, one when the address limit did.
    expect(rows.filter((e) => e.reason === 'HW_ERR_BAD_LOGIN')).toHaveLength(5);
    expect(rows.filter((e) => e.reason === 'HW_ERR_RATE_LIMITED')).toHaveLength(2);
    expect(await throttledCount(metrics)).toBe(995);
    // The same from 1,000 addresses: the account limit refuses them, audited once.
    for (let i = 0; i < 1000; i++) expect((await attempt(hw, 'city', 'guess', `10.78.${i >> 8}.${i & 255}`)).statusCode).toBe(429);
    expect(await rowsFrom((e) => e.address.startsWith('10.78.'))).toHaveLength(0);
    expect(await throttledCount(metrics)).toBe(1995);
  });

  it('does not let an attacker hammering `city` keep the real user out of their usual address; successes do not count', async () => {
    const { hw } = make();
    await hw.app.ready();
    const home = '10.60.0.1';
    // The regulator logs in from their usual address, more often than the account limit.
    for (let i = 0; i < 8; i++) expect((await attempt(hw, 'city', 'hazardwatch', home)).statusCode).toBe(200);
    // The attacker guesses from one address until both limits refuse it.
    const attacker: number[] = [];
    for (let i = 0; i < 40; i++) attacker.push((await attempt(hw, 'city', `guess-${i}`, '10.66.6.6')).statusCode);
    expect(attacker.filter((s) => s === 401)).toHaveLength(5);
    expect(attacker.at(-1)).toBe(429);
    // The account is locked for new addresses (the attacker moving on gains no guesses)...
    const elsewhere = await attempt(hw, 'city', 'hazardwatch', '10.66.6.7');
    expect(elsewhere.statusCode).toBe(429);
    expect(elsewhere.json()).toMatchObject({ code: 'HW_ERR_RATE_LIMITED' });
    // ...but the real user, from the address they logged in from, gets in.
    const real = await attempt(hw, 'city', 'hazardwatch', home);
    expect(real.statusCode).toBe(200);
    // Another account is not affected.
    expect((await attempt(hw, 'district', 'hazardwatch', '10.66.7.1')).statusCode).toBe(200);
  });
});
