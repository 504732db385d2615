import { afterEach, describe, expect, it } from 'vitest';
import { backoffDelayMs, parseRetryAfter } from '../src/backoff.ts';
import type { SendResult } from '../src/channel.ts';
import { loadChannelDefs } from '../src/channel-config.ts';
import { createChannel } from '../src/channels.ts';
import { waitFor } from '../../test/ports.ts';
import { workedMessage } from './alerts.ts';
import { fakeClock, json, startReceiver, type Receiver } from './receivers.ts';

const SECRET = 'whsec-0123456789abcdef-test';
const recipient = { id: 'ops-group' };
let receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

async function receiver(answer: Parameters<typeof startReceiver>[0]) {
  const r = await startReceiver(answer);
  receivers.push(r);
  return r;
}

function channel(url: string, policy: Record<string, unknown>, clock = fakeClock()) {
  const [def] = loadChannelDefs([{ name: 'hook', type: 'webhook', url, secret: SECRET, ...policy }]);
  // random() = 1: the back-off is its ceiling, so the waits are known numbers.
  return createChannel(def!, { now: clock.now, sleep: clock.sleep, random: () => 1 });
}

describe('deliver: retries with back-off', () => {
  it('an endpoint that answers 500 then 200 gets the message once after one retry, same key both times', async () => {
    const accepted: string[] = [];
    const r = await receiver((req, n, res) => {
      if (n === 1) return json(res, 500, { error: 'database is down' });
      accepted.push(req.headers['x-hazardwatch-idempotency-key'] as string);
      json(res, 200, { ok: true });
    });
    const clock = fakeClock();
    const attempts: SendResult[] = [];
    const res = await channel(r.url, { retry: { maxAttempts: 4, baseDelayMs: 200, maxDelayMs: 5000 } }, clock)
      .send(workedMessage(), recipient, { idempotencyKey: 'k-500', onAttempt: (_n, a) => attempts.push(a) });
    expect(res).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(accepted).toEqual(['k-500']);
    expect(r.received.map((x) => x.headers['x-hazardwatch-idempotency-key'])).toEqual(['k-500', 'k-500']);
    expect(attempts.map((a) => [a.ok, a.status, a.retryable])).toEqual([[false, 500, true], [true, 200, false]]);
    expect(clock.sleeps).toEqual([200]);
  });

  it('gives up after maxAttempts with exponential waits between, still retryable for the outbox', async () => {
    const r = await receiver((_req, _n, res) => json(res, 503, { error: 'busy' }));
    const clock = fakeClock();
    const res = await channel(r.url, { retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 350 } }, clock).send(workedMessage(), recipient, { idempotencyKey: 'k-503' });
    expect(res).toMatchObject({ ok: false, status: 503, retryable: true, attempts: 4 });
    expect(r.received).toHaveLength(4);
    expect(clock.sleeps).toEqual([100, 200, 350]);
  });

  it('a 4xx other than 408 and 429 is not retried; 408 is', async () => {
    for (const [status, sent] of [[400, 1], [404, 1], [422, 1], [408, 3]] as const) {
      const r = await receiver((_req, _n, res) => json(res, status, { error: 'no' }));
      const res = await channel(r.url, { retry: { maxAttempts: 3 } }).send(workedMessage(), recipient, { idempotencyKey: `k-${status}` });
      expect(res).toMatchObject({ ok: false, status, retryable: status === 408, attempts: sent });
      expect(r.received).toHaveLength(sent);
    }
  });

  it('429 with Retry-After waits what the receiver asked (over the back-off) before the retry', async () => {
    const r = await receiver((_req, n, res) => (n === 1 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '3' }) : json(res, 200, {})));
    const clock = fakeClock();
    const res = await channel(r.url, { retry: { maxAttempts: 3, baseDelayMs: 100, retryAfterCapMs: 10_000 } }, clock).send(workedMessage(), recipient, { idempotencyKey: 'k-429' });
    expect(res).toMatchObject({ ok: true, attempts: 2 });
    expect(clock.sleeps).toEqual([3000]);
  });

  it('429 asking for longer than the cap returns at once, retryable, with the time the receiver named', async () => {
    const r = await receiver((_req, _n, res) => json(res, 429, { error: 'quota' }, { 'retry-after': '3600' }));
    const clock = fakeClock();
    const res = await channel(r.url, { retry: { maxAttempts: 5, retryAfterCapMs: 60_000 } }, clock).send(workedMessage(), recipient, { idempotencyKey: 'k-429-long' });
    expect(res).toMatchObject({ ok: false, status: 429, retryable: true, retryAfterMs: 3_600_000, attempts: 1 });
    expect(clock.sleeps).toEqual([]);
  });

  it('Retry-After as an HTTP date, and the jitter stays within its ceiling', () => {
    expect(parseRetryAfter('Wed, 02 Dec 2026 06:05:30 GMT', Date.UTC(2026, 11, 2, 6, 5))).toBe(30_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    const p = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 1000, retryAfterCapMs: 0 };
    for (let i = 0; i < 200; i++) {
      const d = backoffDelayMs(4, p);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(800);
    }
    expect(backoffDelayMs(10, p, () => 0.999999)).toBe(999);
  });
});

describe('deliver: timeouts and cancellation', () => {
  it('a receiver that never answers times out, retryable, each attempt bounded by the timeout', async () => {
    const r = await receiver(() => undefined);
    const res = await channel(r.url, { timeoutMs: 300, retry: { maxAttempts: 2 } }).send(workedMessage(), recipient, { idempotencyKey: 'k-hang' });
    expect(res).toMatchObject({ ok: false, status: 'timeout', retryable: true, attempts: 2 });
    expect(r.received).toHaveLength(2);
  });

  it('a receiver that never answers does not stall a send to another receiver running concurrently', async () => {
    const hanging = await receiver(() => undefined);
    const healthy = await receiver((_req, _n, res) => json(res, 200, {}));
    const stuck = channel(hanging.url, { timeoutMs: 120_000, retry: { maxAttempts: 1 } });
    const fine = channel(healthy.url, { retry: { maxAttempts: 1 } });
    const stop = new AbortController();
    let stuckSettled = false;
    const stuckSend = stuck.send(workedMessage(), recipient, { idempotencyKey: 'k-stuck', signal: stop.signal }).finally(() => (stuckSettled = true));
    await waitFor(() => hanging.received.length === 1, { what: 'the hanging receiver to hold the request' });
    // The other channel delivers while the first request is still held open (its timeout is 2 min).
    for (let i = 0; i < 3; i++) expect(await fine.send(workedMessage(), recipient, { idempotencyKey: `k-fine-${i}` })).toMatchObject({ ok: true, status: 200 });
    expect(healthy.received).toHaveLength(3);
    expect(stuckSettled).toBe(false);
    // Shutdown: the caller's signal ends the held request at once, still owed to the outbox.
    stop.abort();
    expect(await stuckSend).toMatchObject({ ok: false, status: 'aborted', retryable: true, attempts: 1 });
  });

  it('a refused connection is a network failure, retryable', async () => {
    const r = await receiver(() => undefined);
    const url = r.url;
    await r.close();
    receivers = [];
    const res = await channel(url, { retry: { maxAttempts: 2 } }).send(workedMessage(), recipient, { idempotencyKey: 'k-refused' });
    expect(res).toMatchObject({ ok: false, status: 'network', retryable: true, attempts: 2 });
    expect(res.answer).toMatch(/ECONNREFUSED|fetch failed/);
  });
});

describe('deliver: the channel rate limit (token bucket)', () => {
  it('spaces sends beyond the burst one token interval apart, in the order they were asked', async () => {
    const r = await receiver((_req, _n, res) => json(res, 200, {}));
    const clock = fakeClock();
    const ch = channel(r.url, { rate: { ratePerS: 2, burst: 3, maxWaitMs: 60_000 } }, clock);
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => ch.send(workedMessage(), recipient, { idempotencyKey: `k-rate-${i}` })));
    expect(results.every((x) => x.ok)).toBe(true);
    expect(r.received).toHaveLength(9);
    // Three at once (the burst), then each later send waits one more 500 ms token.
    expect(clock.sleeps).toEqual([500, 1000, 1500, 2000, 2500, 3000]);
  });

  it('refuses a send that would wait longer than maxWaitMs, retryable with when to come back', async () => {
    const r = await receiver((_req, _n, res) => json(res, 200, {}));
    const clock = fakeClock();
    const ch = channel(r.url, { rate: { ratePerS: 2, burst: 3, maxWaitMs: 2000 } }, clock);
    const results = await Promise.all(Array.from({ length: 9 }, (_, i) => ch.send(workedMessage(), recipient, { idempotencyKey: `k-wait-${i}` })));
    expect(results.filter((x) => x.ok)).toHaveLength(7);
    expect(results.slice(7)).toMatchObject([
      { ok: false, status: 'throttled', retryable: true, retryAfterMs: 2500, attempts: 0 },
      { ok: false, status: 'throttled', retryable: true, retryAfterMs: 2500, attempts: 0 },
    ]);
    expect(r.received).toHaveLength(7);
  });

  it('tokens come back with time: after a quiet second and a half, three more go at once', async () => {
    const r = await receiver((_req, _n, res) => json(res, 200, {}));
    const clock = fakeClock();
    const ch = channel(r.url, { rate: { ratePerS: 2, burst: 3, maxWaitMs: 60_000 } }, clock);
    for (let i = 0; i < 3; i++) await ch.send(workedMessage(), recipient, { idempotencyKey: `k-a-${i}` });
    clock.t += 1500;
    for (let i = 0; i < 3; i++) await ch.send(workedMessage(), recipient, { idempotencyKey: `k-b-${i}` });
    expect(clock.sleeps).toEqual([]);
    await ch.send(workedMessage(), recipient, { idempotencyKey: 'k-c' });
    expect(clock.sleeps).toEqual([500]);
    expect(r.received).toHaveLength(7);
  });
});
