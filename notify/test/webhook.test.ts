import { afterEach, describe, expect, it } from 'vitest';
import { loadChannelDefs } from '../src/channel-config.ts';
import { createChannel } from '../src/channels.ts';
import { signWebhook, verifyWebhookSignature } from '../src/webhook-signature.ts';
import { workedMessage } from './alerts.ts';
import { json, startReceiver, type Receiver } from './receivers.ts';

const SECRET = 'whsec-0123456789abcdef-test';
const recipient = { id: 'ops-group' };
let receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

/** A webhook receiver as a customer would write one: raw body, our verifier, a clock of its own. */
async function verifyingReceiver(clock: { nowMs: number | undefined } = { nowMs: undefined }) {
  const accepted: string[] = [];
  const r = await startReceiver((req, _n, res) => {
    const check = verifyWebhookSignature(req.body, req.headers['x-hazardwatch-signature'] as string | undefined, SECRET, clock.nowMs === undefined ? {} : { nowMs: clock.nowMs });
    if (!check.ok) return json(res, 401, { error: check.reason });
    accepted.push(req.headers['x-hazardwatch-idempotency-key'] as string);
    json(res, 200, { ok: true });
  });
  receivers.push(r);
  return { r, accepted };
}

function webhookChannel(url: string, extra: Record<string, unknown> = {}) {
  const [def] = loadChannelDefs([{ name: 'ops-webhook', type: 'webhook', url, secret: SECRET, ...extra }]);
  return createChannel(def!);
}

describe('verifyWebhookSignature', () => {
  const body = '{"a":1}';
  const t = 1_800_000_000;
  const nowMs = t * 1000;

  it('accepts the signature it made, within the window', () => {
    expect(verifyWebhookSignature(body, signWebhook(body, SECRET, t), SECRET, { nowMs: nowMs + 299_000 })).toEqual({ ok: true, t });
    expect(verifyWebhookSignature(Buffer.from(body), signWebhook(body, SECRET, t), SECRET, { nowMs })).toEqual({ ok: true, t });
  });

  it('refuses another body, another secret, a stale or future timestamp, and a malformed header', () => {
    const header = signWebhook(body, SECRET, t);
    expect(verifyWebhookSignature('{"a":2}', header, SECRET, { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(body, header, 'another-secret-0123456', { nowMs })).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(body, header, SECRET, { nowMs: nowMs + 301_000 })).toEqual({ ok: false, reason: 'outside-window' });
    expect(verifyWebhookSignature(body, header, SECRET, { nowMs: nowMs - 301_000 })).toEqual({ ok: false, reason: 'outside-window' });
    expect(verifyWebhookSignature(body, header, SECRET, { nowMs: nowMs + 30_000, toleranceS: 10 })).toEqual({ ok: false, reason: 'outside-window' });
    // The timestamp is signed: moving it into the window breaks the signature.
    const moved = header.replace(`t=${t}`, `t=${t + 400}`);
    expect(verifyWebhookSignature(body, moved, SECRET, { nowMs: nowMs + 400_000 })).toEqual({ ok: false, reason: 'mismatch' });
    for (const bad of [undefined, '', 'v1=abc', `t=${t}`, `t=x,v1=${'0'.repeat(64)}`, 'x'.repeat(2000)]) {
      expect(verifyWebhookSignature(body, bad, SECRET, { nowMs })).toEqual({ ok: false, reason: 'malformed' });
    }
  });

  it('accepts any one of several v1 signatures (secret rotation)', () => {
    const old = signWebhook(body, 'old-secret-0123456789', t).split(',')[1];
    const header = `${signWebhook(body, SECRET, t)},${old}`;
    expect(verifyWebhookSignature(body, header, 'old-secret-0123456789', { nowMs }).ok).toBe(true);
    expect(verifyWebhookSignature(body, header, SECRET, { nowMs }).ok).toBe(true);
  });
});

describe('webhook channel against a real receiver', () => {
  it('posts the alert, event, reason and link as JSON, signed, with the idempotency key; the receiver verifies it', async () => {
    const { r, accepted } = await verifyingReceiver();
    const ch = webhookChannel(`${r.url}/hooks/hazardwatch`);
    const msg = workedMessage();
    const res = await ch.send(msg, recipient, { idempotencyKey: 'al-1:0:ops-group:ops-webhook' });
    expect(res).toMatchObject({ ok: true, status: 200, retryable: false, attempts: 1 });
    expect(accepted).toEqual(['al-1:0:ops-group:ops-webhook']);
    const got = r.received[0]!;
    expect(got.url).toBe('/hooks/hazardwatch');
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(got.body);
    expect(body).toMatchObject({
      idempotencyKey: 'al-1:0:ops-group:ops-webhook',
      event: { alertId: msg.event.alertId, kind: 'raised', ts: msg.event.ts },
      alert: { id: msg.event.alertId, level: 'red', sensorId: 'coal-liuxin.h2s-1' },
      reason: { value: 15.2, limit: 10, unit: 'mg/m3', source: 'GBZ 2.1-2019 Table 1 (oel.md §A.2)' },
      link: msg.link,
      locale: 'zh-CN',
      subject: '【红色预警·产生】柳新煤矿 · 回风巷 · 硫化氢',
    });
    await ch.close();
  });

  it('a request replayed outside the window is refused by the receiver', async () => {
    const clock = { nowMs: undefined as number | undefined };
    const { r, accepted } = await verifyingReceiver(clock);
    const ch = webhookChannel(r.url);
    expect((await ch.send(workedMessage(), recipient, { idempotencyKey: 'k-replay' })).ok).toBe(true);
    const captured = r.received[0]!;
    // Someone who captured the request sends it again, byte for byte, six minutes later.
    clock.nowMs = Date.now() + 360_000;
    const replay = await fetch(r.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hazardwatch-signature': captured.headers['x-hazardwatch-signature'] as string, 'x-hazardwatch-idempotency-key': 'k-replay' }, body: captured.body });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ error: 'outside-window' });
    // Within the window the same bytes verify (idempotency keys are the receiver's defence there).
    clock.nowMs = undefined;
    const again = await fetch(r.url, { method: 'POST', headers: { 'x-hazardwatch-signature': captured.headers['x-hazardwatch-signature'] as string, 'x-hazardwatch-idempotency-key': 'k-replay' }, body: captured.body });
    expect(again.status).toBe(200);
    expect(accepted).toEqual(['k-replay', 'k-replay']);
    await ch.close();
  });

  it('a receiver that echoes our headers does not put the secret or extra header values in the answer', async () => {
    const r = await startReceiver((req, _n, res) => json(res, 400, { echo: req.headers }));
    receivers.push(r);
    const ch = webhookChannel(r.url, { headers: { authorization: 'Bearer tok-9f8e7d6c5b4a' } });
    const res = await ch.send(workedMessage(), recipient, { idempotencyKey: 'k-echo' });
    expect(res).toMatchObject({ ok: false, status: 400, retryable: false, attempts: 1 });
    expect(res.answer).not.toContain('tok-9f8e7d6c5b4a');
    expect(res.answer).toContain('***');
    expect(Buffer.byteLength(res.answer)).toBeLessThanOrEqual(2048);
    await ch.close();
  });

  it('refuses an idempotency key that cannot travel in a header, without sending', async () => {
    const r = await startReceiver((_req, _n, res) => json(res, 200, {}));
    receivers.push(r);
    const ch = webhookChannel(r.url);
    expect(await ch.send(workedMessage(), recipient, { idempotencyKey: 'has space\n' })).toMatchObject({ ok: false, status: 'bad-request', retryable: false, attempts: 0 });
    expect(r.received).toHaveLength(0);
    await ch.close();
  });
});
