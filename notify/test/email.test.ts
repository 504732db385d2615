import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/fixtures.ts';
import type { Channel } from '../src/channel.ts';
import { loadChannelDefs } from '../src/channel-config.ts';
import { createChannel } from '../src/channels.ts';
import { messageIdFor } from '../src/email.ts';
import { workedMessage } from './alerts.ts';
import { fakeClock } from './receivers.ts';

const PASS = 'smtp-pass-5f2a9c';
const officer = { id: 'liuxin-safety', email: 'safety@liuxin.example.cn' };

interface Got { mail: ParsedMail; secure: boolean; user: unknown; rcpt: string[] }

describe('e-mail over SMTP (nodemailer) to a real SMTP server (smtp-server), parsed by mailparser', () => {
  const dir = tempDir('hw-smtp-');
  const got: Got[] = [];
  let server: SMTPServer;
  let port = 0;
  let ca = '';
  const channels: Channel[] = [];

  beforeAll(async () => {
    // A CA and a server certificate for 127.0.0.1, made here with openssl, so the client
    // verifies the server against the CA from its configuration, as in production.
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=hazardwatch test CA');
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    server = new SMTPServer({
      key: readFileSync(join(dir, 'server.key')),
      cert: readFileSync(join(dir, 'server.pem')),
      authMethods: ['PLAIN', 'LOGIN'],
      logger: false,
      onAuth(auth, _session, cb) {
        if (auth.username === 'hazardwatch' && auth.password === PASS) cb(null, { user: 'hazardwatch' });
        else cb(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
      },
      onRcptTo(address, _session, cb) {
        if (address.address.startsWith('full@')) return cb(Object.assign(new Error('Mailbox full, try again later'), { responseCode: 452 }));
        if (address.address.startsWith('nobody@')) return cb(Object.assign(new Error('No such user'), { responseCode: 550 }));
        cb();
      },
      onData(stream, session, cb) {
        simpleParser(stream).then(
          (mail) => {
            got.push({ mail, secure: session.secure, user: session.user, rcpt: session.envelope.rcptTo.map((a) => a.address) });
            cb();
          },
          (err: Error) => cb(err),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });

  afterEach(async () => {
    await Promise.all(channels.splice(0).map((c) => c.close()));
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  function mailChannel(over: Record<string, unknown> = {}) {
    const [def] = loadChannelDefs([{
      name: 'safety-mail', type: 'email', host: '127.0.0.1', port, secure: false, requireTLS: true,
      auth: { user: 'hazardwatch', pass: PASS }, tls: { ca }, from: '职业健康预警 <alerts@hw.example.gov.cn>',
      retry: { maxAttempts: 2 }, ...over,
    }]);
    const clock = fakeClock();
    const ch = createChannel(def!, { now: clock.now, sleep: clock.sleep, random: () => 1 });
    channels.push(ch);
    return ch;
  }

  it('sends HTML and text parts with the Chinese subject over STARTTLS verified against the configured CA', async () => {
    const msg = workedMessage();
    const res = await mailChannel().send(msg, officer, { idempotencyKey: 'al-1:0:liuxin-safety:safety-mail' });
    expect(res).toMatchObject({ ok: true, status: 250, retryable: false, attempts: 1 });
    const g = got.at(-1)!;
    expect(g.secure).toBe(true);
    expect(g.user).toBe('hazardwatch');
    expect(g.rcpt).toEqual([officer.email]);
    expect(g.mail.subject).toBe('【红色预警·产生】柳新煤矿 · 回风巷 · 硫化氢');
    expect(g.mail.from?.value[0]).toMatchObject({ address: 'alerts@hw.example.gov.cn', name: '职业健康预警' });
    expect(g.mail.text?.trim()).toBe(msg.text);
    expect(g.mail.html).toContain('<th align="left" style="padding:4px 12px 4px 0">监测值</th><td style="padding:4px 0">15.2 mg/m3</td>');
    expect(g.mail.html).toContain(`href="${msg.link}"`);
  });

  it('derives the Message-ID from the idempotency key: a resend of the same decision carries the same id, another decision another', async () => {
    const ch = mailChannel();
    const key = 'al-1:0:liuxin-safety:safety-mail';
    await ch.send(workedMessage(), officer, { idempotencyKey: key });
    await ch.send(workedMessage(), officer, { idempotencyKey: key });
    await ch.send(workedMessage(), officer, { idempotencyKey: 'al-1:1:liuxin-safety:safety-mail' });
    const [a, b, c] = got.slice(-3).map((g) => g.mail);
    expect(a!.messageId).toBe(messageIdFor(key, 'hw.example.gov.cn'));
    expect(b!.messageId).toBe(a!.messageId);
    expect(c!.messageId).not.toBe(a!.messageId);
    expect(a!.headers.get('x-hazardwatch-idempotency-key')).toBe(key);
  });

  it('4xx from the server is retried (transient), 5xx is not (permanent)', async () => {
    const ch = mailChannel();
    const before = got.length;
    expect(await ch.send(workedMessage(), { id: 'full', email: 'full@liuxin.example.cn' }, { idempotencyKey: 'k-452' })).toMatchObject({ ok: false, status: 452, retryable: true, attempts: 2 });
    expect(await ch.send(workedMessage(), { id: 'nobody', email: 'nobody@liuxin.example.cn' }, { idempotencyKey: 'k-550' })).toMatchObject({ ok: false, status: 550, retryable: false, attempts: 1 });
    expect(got.length).toBe(before);
  });

  it('a wrong password is refused (535, not retried) and the password never reaches the answer', async () => {
    const res = await mailChannel({ auth: { user: 'hazardwatch', pass: 'wrong-pass-000' } }).send(workedMessage(), officer, { idempotencyKey: 'k-535' });
    expect(res).toMatchObject({ ok: false, retryable: false, attempts: 1 });
    expect(res.status).toBe(535);
    expect(res.answer).not.toContain('wrong-pass-000');
  });

  it('a server certificate the configured CA did not sign is refused: nothing is sent', async () => {
    const before = got.length;
    const res = await mailChannel({ tls: {} }).send(workedMessage(), officer, { idempotencyKey: 'k-untrusted' });
    expect(res.ok).toBe(false);
    expect(res.answer).toMatch(/certificate|self.signed|issuer/i);
    expect(res.answer).not.toContain(PASS);
    expect(got.length).toBe(before);
  });

  it('a recipient without an address is refused before connecting', async () => {
    expect(await mailChannel().send(workedMessage(), { id: 'no-mail' }, { idempotencyKey: 'k-none' })).toMatchObject({ ok: false, status: 'bad-recipient', retryable: false });
    expect(await mailChannel().send(workedMessage(), { id: 'bad', email: 'a@b\r\nBcc: x@y' }, { idempotencyKey: 'k-bad' })).toMatchObject({ ok: false, status: 'bad-recipient' });
  });
});
