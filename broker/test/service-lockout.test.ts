import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthThrottle } from '../src/auth-throttle.ts';
import type { Broker } from '../src/broker.ts';
import { loginFrom, startBroker } from './fixtures.ts';

/**
 * Review 1 finding 4 (broker part): guesses at the service account from 4+ addresses locked
 * `svc` per account, so after a broker restart (no known addresses) the split ingest, rules
 * and API services could not reconnect. The service account is now never locked per
 * account; its failures still block the guessing addresses.
 */
describe('broker: the service account is never locked out per account', () => {
  let broker: Broker;
  beforeAll(async () => {
    // 5 failures a minute per address, 20 per account (the defaults' ratio), blocked 60 s.
    ({ broker } = await startBroker({}, { authFailLimit: 5, authFailLimitPerAccount: 20, authBlockS: 60 }));
  });
  afterAll(async () => broker?.stop());

  it('30 bad logins for svc from 6 addresses block those addresses; the real service then connects from a new address', async () => {
    const attackers = [2, 3, 4, 5, 6, 7].map((n) => `127.0.0.${n}`);
    for (const addr of attackers) {
      for (let i = 0; i < 5; i++) expect(await loginFrom(broker.port(), addr, 'svc', `guess-${addr}-${i}`)).toBe(4);
    }
    // Each guessing address is blocked (CONNACK 3), even with the right secret.
    for (const addr of attackers) expect(await loginFrom(broker.port(), addr, 'svc', 'svc-secret')).toBe(3);
    expect(broker.counters.refused.throttled).toBe(6);
    // The service, from an address it never used (a restarted broker knows none of them).
    expect(await loginFrom(broker.port(), '127.0.0.50', 'svc', 'svc-secret')).toBe(0);
    expect(broker.counters.refused.throttled_account ?? 0).toBe(0);
  });

  it('a gateway account is still locked per account for new addresses (the control)', async () => {
    const attackers = [12, 13, 14, 15, 16, 17].map((n) => `127.0.0.${n}`);
    const before = broker.counters.refused.throttled_account ?? 0;
    const codes: number[] = [];
    for (const addr of attackers) {
      for (let i = 0; i < 5; i++) codes.push(await loginFrom(broker.port(), addr, 'a/g1', `guess-${i}`));
    }
    // 20 guesses are checked (CONNACK 4); then the account is locked for these new addresses (3).
    expect(codes).toEqual([...Array<number>(20).fill(4), ...Array<number>(10).fill(3)]);
    expect(await loginFrom(broker.port(), '127.0.0.60', 'a/g1', 'a-g1-secret')).toBe(3);
    expect(broker.counters.refused.throttled_account).toBe(before + 11);
  });

  it('unit: neverLockAccounts counts failures per address only, and a success clears that address’s failures for it', () => {
    const t = new AuthThrottle({ perAddressLimit: 3, perAccountLimit: 2, blockMs: 60_000, neverLockAccounts: ['svc'] });
    for (let i = 0; i < 100; i++) t.failed(`192.0.2.${i}`, 'svc', i);
    expect(t.check('198.51.100.9', 'svc', 200)).toBeUndefined();
    t.failed('10.0.0.1', 'svc', 300);
    t.failed('10.0.0.1', 'svc', 301);
    t.succeeded('10.0.0.1', 'svc', 302); // the service fixed its secret
    t.failed('10.0.0.1', 'svc', 303);
    t.failed('10.0.0.1', 'svc', 304);
    expect(t.check('10.0.0.1', 'svc', 305)).toBeUndefined();
    t.failed('10.0.0.1', 'svc', 306);
    expect(t.check('10.0.0.1', 'svc', 307)).toBe('address');
  });
});
