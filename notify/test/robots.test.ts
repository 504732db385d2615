import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadChannelDefs } from '../src/channel-config.ts';
import { createChannel } from '../src/channels.ts';
import { workedMessage } from './alerts.ts';
import { fakeClock, json, startReceiver, type Receiver } from './receivers.ts';

let receivers: Receiver[] = [];
afterEach(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  receivers = [];
});

const group = { id: 'liuxin-safety-group' };

function channel(def: Record<string, unknown>) {
  const [d] = loadChannelDefs([def]);
  const clock = fakeClock();
  return { ch: createChannel(d!, { now: clock.now, sleep: clock.sleep, random: () => 1 }), clock };
}

describe('WeCom group robot (企业微信群机器人)', () => {
  const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';

  /** Stands in for qyapi.weixin.qq.com: checks the key and the markdown message, answers errcode. */
  async function wecom(answer: (n: number) => { errcode: number; errmsg: string } = () => ({ errcode: 0, errmsg: 'ok' })) {
    const r = await startReceiver((req, n, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/cgi-bin/webhook/send' || url.searchParams.get('key') !== KEY) return json(res, 200, { errcode: 93000, errmsg: `invalid webhook url, hint: ${req.url}` });
      const body = JSON.parse(req.body);
      if (body.msgtype !== 'markdown' || typeof body.markdown?.content !== 'string') return json(res, 200, { errcode: 40008, errmsg: 'invalid message type' });
      json(res, 200, answer(n));
    });
    receivers.push(r);
    return r;
  }

  it('posts {msgtype: markdown, markdown: {content}} to the webhook URL with the key; errcode 0 is delivered', async () => {
    const r = await wecom();
    const { ch } = channel({ name: 'liuxin-wecom', type: 'wecom', url: `${r.url}/cgi-bin/webhook/send`, key: KEY });
    const msg = workedMessage();
    expect(await ch.send(msg, group, { idempotencyKey: 'k-wecom' })).toMatchObject({ ok: true, status: 200, retryable: false, attempts: 1 });
    const body = JSON.parse(r.received[0]!.body);
    expect(Object.keys(body)).toEqual(['msgtype', 'markdown']);
    expect(body.markdown.content).toBe(msg.markdown);
    expect(body.markdown.content).toContain('**监测值**：15.2 mg/m3');
    expect(r.received[0]!.headers['content-type']).toMatch(/^application\/json/);
  });

  it('a refused key (errcode 93000) is not retried, and the key the server echoes is not in the answer', async () => {
    const r = await wecom();
    const { ch } = channel({ name: 'liuxin-wecom', type: 'wecom', url: `${r.url}/cgi-bin/webhook/send`, key: 'wrong-key-0000' });
    const res = await ch.send(workedMessage(), group, { idempotencyKey: 'k-wecom-bad' });
    expect(res).toMatchObject({ ok: false, status: 200, retryable: false, attempts: 1 });
    expect(res.answer).toContain('93000');
    expect(res.answer).not.toContain('wrong-key-0000');
  });

  it('errcode 45009 (frequency limit) is retried with back-off', async () => {
    const r = await wecom((n) => (n === 1 ? { errcode: 45009, errmsg: 'api freq out of limit' } : { errcode: 0, errmsg: 'ok' }));
    const { ch, clock } = channel({ name: 'liuxin-wecom', type: 'wecom', url: `${r.url}/cgi-bin/webhook/send`, key: KEY, retry: { baseDelayMs: 1000 } });
    expect(await ch.send(workedMessage(), group, { idempotencyKey: 'k-wecom-busy' })).toMatchObject({ ok: true, attempts: 2 });
    expect(clock.sleeps).toEqual([1000]);
  });

  it('keeps to 20 messages a minute by default: 10 at once, then one every 6 s', async () => {
    const r = await wecom();
    const { ch, clock } = channel({ name: 'liuxin-wecom', type: 'wecom', url: `${r.url}/cgi-bin/webhook/send`, key: KEY });
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => ch.send(workedMessage(), group, { idempotencyKey: `k-wecom-${i}` })));
    expect(results.every((x) => x.ok)).toBe(true);
    expect(clock.sleeps).toEqual([6000, 12000]);
  });
});

describe('DingTalk custom robot (钉钉自定义机器人) with the signed URL (加签)', () => {
  const TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
  const SECRET = 'SECb3d1f0c5e8a74f2e9c6d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4';

  /**
   * Stands in for oapi.dingtalk.com: recomputes the sign as DingTalk documents it,
   * base64(HmacSHA256(key = secret, "<timestamp>\n<secret>")), checks the timestamp is
   * within an hour, and answers errcode 310000 when the sign does not match.
   */
  async function dingtalk() {
    const r = await startReceiver((req, _n, res) => {
      const url = new URL(req.url, 'http://x');
      if (url.pathname !== '/robot/send' || url.searchParams.get('access_token') !== TOKEN) return json(res, 200, { errcode: 300001, errmsg: 'token is not exist' });
      const ts = url.searchParams.get('timestamp') ?? '';
      const expected = createHmac('sha256', SECRET).update(`${ts}\n${SECRET}`).digest('base64');
      if (url.searchParams.get('sign') !== expected || Math.abs(Date.now() - Number(ts)) > 3600_000) return json(res, 200, { errcode: 310000, errmsg: 'sign not match' });
      const body = JSON.parse(req.body);
      if (body.msgtype !== 'markdown' || !body.markdown?.title || !body.markdown?.text) return json(res, 200, { errcode: 40035, errmsg: 'missing parameter' });
      json(res, 200, { errcode: 0, errmsg: 'ok' });
    });
    receivers.push(r);
    return r;
  }

  it('signs the URL with timestamp and sign; the robot verifies it and takes the markdown title and text', async () => {
    const r = await dingtalk();
    const { ch } = channel({ name: 'liuxin-dingtalk', type: 'dingtalk', url: `${r.url}/robot/send`, accessToken: TOKEN, secret: SECRET });
    const msg = workedMessage();
    expect(await ch.send(msg, { id: 'officer', phones: ['13800000000'] }, { idempotencyKey: 'k-ding' })).toMatchObject({ ok: true, status: 200, attempts: 1 });
    const got = r.received[0]!;
    // The raw query carries the sign URL-encoded, as DingTalk's examples encode it.
    expect(got.url).toMatch(/[?&]sign=[A-Za-z0-9%]+(&|$)/);
    expect(got.url).not.toMatch(/sign=[^&]*[+/=]/);
    const body = JSON.parse(got.body);
    expect(body).toEqual({
      msgtype: 'markdown',
      markdown: { title: msg.subject, text: `${msg.markdown}\n\n@13800000000` },
      at: { atMobiles: ['13800000000'], isAtAll: false },
    });
  });

  it('a wrong secret is refused by the robot (310000) and not retried; neither token nor secret reaches the answer', async () => {
    const r = await dingtalk();
    const wrong = 'SECwrong0000000000000000000000000000000000000000000000000000000000';
    const { ch } = channel({ name: 'liuxin-dingtalk', type: 'dingtalk', url: `${r.url}/robot/send`, accessToken: TOKEN, secret: wrong });
    const res = await ch.send(workedMessage(), group, { idempotencyKey: 'k-ding-bad' });
    expect(res).toMatchObject({ ok: false, status: 200, retryable: false, attempts: 1 });
    expect(res.answer).toContain('310000');
    expect(res.answer).not.toContain(TOKEN);
    expect(res.answer).not.toContain(wrong);
  });

  it('an answer that is not the robot\'s JSON (a proxy error page) is a retryable failure', async () => {
    const r = await startReceiver((_req, _n, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>gateway</html>'));
    receivers.push(r);
    const { ch } = channel({ name: 'liuxin-dingtalk', type: 'dingtalk', url: `${r.url}/robot/send`, accessToken: TOKEN, retry: { maxAttempts: 2 } });
    expect(await ch.send(workedMessage(), group, { idempotencyKey: 'k-ding-html' })).toMatchObject({ ok: false, status: 200, retryable: true, attempts: 2 });
  });
});
