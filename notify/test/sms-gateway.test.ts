import { afterEach, describe, expect, it } from 'vitest';
import { HwError } from '../../core/src/errors.ts';
import type { NotifyMessage } from '../src/channel.ts';
import { loadChannelDefs } from '../src/channel-config.ts';
import { createChannel } from '../src/channels.ts';
import { workedMessage } from './alerts.ts';
import { fakeClock, json, startReceiver, type Receiver } from './receivers.ts';

let receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

const officer = { id: 'liuxin-safety', phones: ['13800000000', '+8613900000001'] };
const API_KEY = 'ak-LTAI5tQ9zXv8';
const AUTH = 'Bearer gw-token-7c1d9e';

function channel(def: Record<string, unknown>) {
  const [d] = loadChannelDefs([{ name: 'sms', type: 'sms', ...def }]);
  const clock = fakeClock();
  return { ch: createChannel(d!, { now: clock.now, sleep: clock.sleep, random: () => 1 }), clock };
}

/** A provider-shaped JSON gateway: checks its token, answers `{"result": {"code": …}}`. */
async function jsonGateway(code: (n: number) => string = () => 'OK') {
  const r = await startReceiver((req, n, res) => {
    if (req.headers.authorization !== AUTH) return json(res, 401, { result: { code: 'Unauthorized' } });
    JSON.parse(req.body); // a body that is not JSON would throw here and fail the test
    json(res, 200, { result: { code: code(n), requestId: `r-${n}` } });
  });
  receivers.push(r);
  return r;
}

const JSON_TEMPLATE = '{"phoneNumbers": "{{phones}}", "content": "{{message}}", "outId": "{{idempotencyKey}}", "apiKey": "{{secret.apiKey}}"}';

describe('SMS through a configurable HTTP gateway', () => {
  it('fills a JSON template (values JSON-escaped) and judges success by status and a JSON path', async () => {
    const r = await jsonGateway();
    const { ch } = channel({
      url: `${r.url}/sms/send`, headers: { authorization: AUTH }, bodyFormat: 'json', body: JSON_TEMPLATE,
      secrets: { apiKey: API_KEY }, success: { jsonPath: 'result.code', equals: 'OK' },
    });
    const msg = workedMessage();
    const res = await ch.send(msg, officer, { idempotencyKey: 'k-sms' });
    expect(res).toMatchObject({ ok: true, status: 200, attempts: 1 });
    const got = r.received[0]!;
    expect(got.method).toBe('POST');
    expect(got.url).toBe('/sms/send');
    expect(got.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(got.body)).toEqual({ phoneNumbers: '13800000000,+8613900000001', content: msg.sms, outId: 'k-sms', apiKey: API_KEY });
    expect(msg.sms.length).toBeLessThanOrEqual(134);
  });

  it('escapes quotes, backslashes and newlines in the message so the JSON body stays JSON; {{phonesJson}} is an array', async () => {
    const r = await jsonGateway();
    const { ch } = channel({
      url: `${r.url}/v2/sms`, headers: { authorization: AUTH }, bodyFormat: 'json',
      body: '{"to": {{phonesJson}}, "text": "{{message}}"}', success: { jsonPath: '$.result.code', equals: 'OK' },
    });
    const awkward: NotifyMessage = { ...workedMessage(), sms: '引号"\\反斜杠\n换行 {{phones}}' };
    expect(await ch.send(awkward, officer, { idempotencyKey: 'k-sms-esc' })).toMatchObject({ ok: true });
    expect(JSON.parse(r.received[0]!.body)).toEqual({ to: ['13800000000', '+8613900000001'], text: '引号"\\反斜杠\n换行 {{phones}}' });
  });

  it('a form body and a GET with the values in the URL are percent-encoded', async () => {
    const r = await startReceiver((_req, _n, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('0,accepted'));
    receivers.push(r);
    const form = channel({ url: `${r.url}/form`, bodyFormat: 'form', body: 'mobile={{phones}}&content={{message}}&key={{secret.apiKey}}', secrets: { apiKey: API_KEY } }).ch;
    const get = channel({ url: `${r.url}/get?mobile={{phones}}&msg={{message}}`, method: 'GET' }).ch;
    const msg = workedMessage();
    expect(await form.send(msg, officer, { idempotencyKey: 'k-form' })).toMatchObject({ ok: true });
    expect(await get.send(msg, officer, { idempotencyKey: 'k-get' })).toMatchObject({ ok: true });
    const [f, g] = r.received;
    expect(f!.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(f!.body))).toEqual({ mobile: '13800000000,+8613900000001', content: msg.sms, key: API_KEY });
    expect(g!.method).toBe('GET');
    const q = new URL(g!.url, 'http://x').searchParams;
    expect(q.get('mobile')).toBe('13800000000,+8613900000001');
    expect(q.get('msg')).toBe(msg.sms);
  });

  it('the provider\'s refusal in the JSON is not retried; its rate-control code is; secrets stay out of the answer', async () => {
    const refused = await jsonGateway(() => `isv.MOBILE_NUMBER_ILLEGAL ${API_KEY}`);
    const busy = await jsonGateway((n) => (n === 1 ? 'isv.BUSINESS_LIMIT_CONTROL' : 'OK'));
    const success = { jsonPath: 'result.code', equals: 'OK', retryableValues: ['isv.BUSINESS_LIMIT_CONTROL'] };
    const common = { headers: { authorization: AUTH }, bodyFormat: 'json', body: JSON_TEMPLATE, secrets: { apiKey: API_KEY }, success };
    const a = await channel({ url: refused.url, ...common }).ch.send(workedMessage(), officer, { idempotencyKey: 'k-sms-ill' });
    expect(a).toMatchObject({ ok: false, status: 200, retryable: false, attempts: 1 });
    expect(a.answer).toContain('MOBILE_NUMBER_ILLEGAL');
    expect(a.answer).not.toContain(API_KEY);
    const b = await channel({ url: busy.url, ...common }).ch.send(workedMessage(), officer, { idempotencyKey: 'k-sms-busy' });
    expect(b).toMatchObject({ ok: true, attempts: 2 });
    const unauth = await channel({ url: refused.url, ...common, headers: { authorization: 'Bearer wrong-token-1' } }).ch.send(workedMessage(), officer, { idempotencyKey: 'k-sms-401' });
    expect(unauth).toMatchObject({ ok: false, status: 401, retryable: false, attempts: 1 });
  });

  it('a recipient without usable phone numbers is refused before anything is sent', async () => {
    const r = await jsonGateway();
    const { ch } = channel({ url: r.url, headers: { authorization: AUTH }, body: JSON_TEMPLATE, secrets: { apiKey: API_KEY }, success: { jsonPath: 'result.code', equals: 'OK' } });
    for (const phones of [undefined, [], ['13800000000; DROP'], Array.from({ length: 101 }, () => '13800000000')]) {
      const res = await ch.send(workedMessage(), { id: 'x', ...(phones ? { phones } : {}) }, { idempotencyKey: 'k-none' });
      expect(res).toMatchObject({ ok: false, status: 'bad-recipient', retryable: false });
    }
    expect(r.received).toHaveLength(0);
  });

  it('templates are checked at load: unknown placeholders, phonesJson outside JSON, JSON that breaks once filled, a path without a value', () => {
    const load = (over: Record<string, unknown>) => () => loadChannelDefs([{ name: 'sms', type: 'sms', url: 'https://sms.example.com/send', body: JSON_TEMPLATE, secrets: { apiKey: API_KEY }, ...over }]);
    expect(load({})).not.toThrow();
    expect(load({ body: '{"to": "{{phones}}", "text": "{{mesage}}"}' })).toThrow(/unknown placeholder \{\{mesage\}\}/);
    expect(load({ bodyFormat: 'form', body: 'to={{phonesJson}}&t={{message}}' })).toThrow(/phonesJson/);
    expect(load({ body: '{"to": {{phones}}, "text": "{{message}}"}' })).toThrow(/not JSON once filled/);
    expect(load({ body: '{"to": "{{phones}}", "text": "{{message}}", "k": "{{secret.other}}"}' })).toThrow(/names no entry of secrets/);
    expect(load({ body: '{"to": "{{phones}}"}' })).toThrow(/must hold \{\{message\}\}/);
    expect(load({ success: { jsonPath: 'result.code' } })).toThrow(/jsonPath needs equals/);
    try {
      load({ body: 'not json {{phones}} {{message}}', success: { jsonPath: 'a..b', equals: 1 } })();
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(HwError);
      expect((err as HwError).code).toBe('HW_ERR_CONFIG');
      // Every problem at once; no secret value in the message.
      expect((err as Error).message).toMatch(/not JSON once filled[\s\S]*empty segment|empty segment[\s\S]*not JSON once filled/);
      expect((err as Error).message).not.toContain(API_KEY);
    }
  });
});
