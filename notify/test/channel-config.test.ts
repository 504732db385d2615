import { describe, expect, it } from 'vitest';
import { HwError } from '../../core/src/errors.ts';
import { loadChannelDefs, POLICY_DEFAULTS, publicView } from '../src/channel-config.ts';
import { createChannels } from '../src/channels.ts';

const SECRETS = ['whsec-aaaaaaaaaaaaaaaa', 'smtp-pass-bbbb', 'wecom-key-cccc', 'ding-token-dddd', 'SECding-secret-eeee', 'Bearer sms-ffff', 'sms-api-gggg'];

const valid = [
  { name: 'ops-webhook', type: 'webhook', url: 'https://ops.example.com/hooks/hw', secret: SECRETS[0] },
  { name: 'safety-mail', type: 'email', host: 'smtp.example.com', auth: { user: 'hw', pass: SECRETS[1] }, from: 'hw <alerts@example.com>' },
  { name: 'liuxin-wecom', type: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send', key: SECRETS[2] },
  { name: 'liuxin-dingtalk', type: 'dingtalk', url: 'https://oapi.dingtalk.com/robot/send', accessToken: SECRETS[3], secret: SECRETS[4] },
  {
    name: 'sms', type: 'sms', url: 'https://sms.example.com/send', headers: { authorization: SECRETS[5] },
    body: '{"to": "{{phones}}", "text": "{{message}}", "key": "{{secret.k}}"}', secrets: { k: SECRETS[6] }, success: { jsonPath: 'code', equals: 0 },
  },
];

describe('channel configuration', () => {
  it('loads every type with the type defaults filled in, frozen', () => {
    const defs = loadChannelDefs(valid);
    expect(defs.map((d) => d.type)).toEqual(['webhook', 'email', 'wecom', 'dingtalk', 'sms']);
    const mail = defs[1]!;
    expect(mail).toMatchObject({ port: 587, secure: false, requireTLS: true, tls: { rejectUnauthorized: true, minVersion: 'TLSv1.2' }, maxConnections: 2 });
    expect(mail.policy).toEqual(POLICY_DEFAULTS.email);
    expect(defs[2]!.policy.rate).toEqual({ ratePerS: 10 / 60, burst: 10, maxWaitMs: 60_000 });
    expect(defs[4]).toMatchObject({ method: 'POST', bodyFormat: 'json' });
    expect(Object.isFrozen(defs)).toBe(true);
    expect(Object.isFrozen(defs[1]!.policy.retry)).toBe(true);
  });

  it('a channel overrides its timeout, rate and retries field by field', () => {
    const [d] = loadChannelDefs([{ ...valid[0], timeoutMs: 2000, rate: { burst: 5 }, retry: { maxAttempts: 6 } }]);
    expect(d!.policy).toEqual({ timeoutMs: 2000, rate: { ...POLICY_DEFAULTS.webhook.rate, burst: 5 }, retry: { ...POLICY_DEFAULTS.webhook.retry, maxAttempts: 6 } });
  });

  it('reports every problem at once, by channel and field, never echoing a value', () => {
    const bad = [
      { name: 'a', type: 'webhook', url: 'ftp://x', secret: 'short' },
      { name: 'b', type: 'pager', url: 'https://x' },
      { name: 'c', type: 'email', host: 'smtp', from: 'x@y', port: 99999, auth: { user: 'u', pass: SECRETS[1] }, extra: SECRETS[0] },
      { ...valid[2], name: 'a' },
      { name: 'a', type: 'wecom', url: 'https://x', key: SECRETS[2] },
      { ...valid[0], name: 'h', headers: { 'X-Hazardwatch-Signature': 'forged', authorization: SECRETS[5] } },
    ];
    let err: unknown;
    try {
      loadChannelDefs(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HwError);
    const msg = (err as HwError).message;
    expect((err as HwError).code).toBe('HW_ERR_CONFIG');
    expect(msg).toContain('[0] (a)/url');
    expect(msg).toContain('[0] (a)/secret');
    expect(msg).toContain('[1] (b)/type: must be one of webhook, email, wecom, dingtalk, sms');
    expect(msg).toContain('[2] (c)/port');
    expect(msg).toContain('[2] (c)');
    expect(msg).toContain('[4] (a): duplicate channel name');
    expect(msg).toContain('[5] (h)/headers/X-Hazardwatch-Signature: set by hazardwatch');
    for (const s of SECRETS) expect(msg).not.toContain(s);
    expect(() => loadChannelDefs({})).toThrow(/expected a list/);
  });

  it('publicView hides every secret field, so a definition can be logged or shown', () => {
    const views = loadChannelDefs(valid).map(publicView);
    const text = JSON.stringify(views);
    for (const s of SECRETS) expect(text).not.toContain(s);
    expect(views[0]).toMatchObject({ name: 'ops-webhook', url: 'https://ops.example.com/hooks/hw', secret: '***' });
    expect(views[1]).toMatchObject({ host: 'smtp.example.com', auth: '***' });
    expect(views[3]).toMatchObject({ accessToken: '***', secret: '***' });
    expect(views[4]).toMatchObject({ headers: '***', secrets: '***', body: valid[4]!.body });
  });

  it('createChannels builds one channel per definition, by name', async () => {
    const channels = createChannels(loadChannelDefs(valid));
    expect([...channels.keys()]).toEqual(['ops-webhook', 'safety-mail', 'liuxin-wecom', 'liuxin-dingtalk', 'sms']);
    expect(channels.get('liuxin-dingtalk')!.type).toBe('dingtalk');
    await Promise.all([...channels.values()].map((c) => c.close()));
    const closed = await channels.get('ops-webhook')!.send({} as never, { id: 'x' }, { idempotencyKey: 'k' });
    expect(closed).toMatchObject({ ok: false, status: 'aborted', retryable: true, attempts: 0 });
  });
});
