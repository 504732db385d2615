import { createHash } from 'node:crypto';
import nodemailer, { type NodemailerError } from 'nodemailer';
import { redact } from './answer.ts';
import type { SendOnce } from './channel.ts';
import { IDEMPOTENCY_HEADER } from './webhook-signature.ts';

/** E-mail over SMTP (nodemailer), HTML and text parts. */
export interface EmailConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); false = plain, upgraded by STARTTLS when offered. */
  secure: boolean;
  /** Refuse to send unless STARTTLS succeeds (with `secure: false`). */
  requireTLS: boolean;
  auth?: { user: string; pass: string };
  tls: {
    /** Check the server's certificate (leave on outside tests with a private CA in `ca`). */
    rejectUnauthorized: boolean;
    /** PEM CA bundle to trust besides the system's. */
    ca?: string;
    /** Name to check the certificate against when `host` is an address. */
    servername?: string;
    minVersion: 'TLSv1.2' | 'TLSv1.3';
  };
  /** `"安全预警 <alerts@example.com>"` */
  from: string;
  /** Right-hand side of Message-IDs; absent = the domain of `from`. */
  messageIdDomain?: string;
  /** SMTP connections kept open for reuse. */
  maxConnections: number;
}

/** A printable address of at most 254 characters (RFC 5321 §4.5.3.1.3), no header breaks. */
const EMAIL = /^[^\s@<>,;"]{1,64}@[^\s@<>,;"]{1,253}$/;

/**
 * The Message-ID of a notification is a function of its idempotency key: a resend of the
 * same decision carries the same Message-ID, so a mail system or a person sees it is the
 * same message (RFC 5322 §3.6.4: the id is unique to one message, and a resend is that
 * message again). The key is hashed because it may hold characters an id may not.
 */
export function messageIdFor(idempotencyKey: string, domain: string): string {
  return `<hw.${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40)}@${domain}>`;
}

export function emailAdapter(cfg: EmailConfig, timeoutMs: number): { sendOnce: SendOnce; secrets: string[]; close(): Promise<void> } {
  const domain = cfg.messageIdDomain ?? /@([^>\s]+)>?\s*$/.exec(cfg.from)?.[1] ?? 'hazardwatch.invalid';
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: cfg.maxConnections,
    host: cfg.host,
    port: cfg.port,
    secure: cfg.secure,
    requireTLS: cfg.requireTLS,
    ...(cfg.auth ? { auth: { user: cfg.auth.user, pass: cfg.auth.pass } } : {}),
    tls: { rejectUnauthorized: cfg.tls.rejectUnauthorized, minVersion: cfg.tls.minVersion, ...(cfg.tls.ca ? { ca: cfg.tls.ca } : {}), ...(cfg.tls.servername ? { servername: cfg.tls.servername } : {}) },
    // The channel's timeout bounds each stage too, so an abandoned connection ends on its own.
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  const secrets = cfg.auth ? [cfg.auth.pass] : [];
  const sendOnce: SendOnce = async (message, recipient, { idempotencyKey, signal }) => {
    if (!recipient.email || !EMAIL.test(recipient.email)) {
      return { ok: false, status: 'bad-recipient', answer: `recipient ${recipient.id} has no usable e-mail address`, retryable: false };
    }
    try {
      const info = await transport.sendMail({
        from: cfg.from,
        to: recipient.email,
        subject: message.subject,
        text: message.text,
        html: message.html,
        messageId: messageIdFor(idempotencyKey, domain),
        headers: { [IDEMPOTENCY_HEADER]: idempotencyKey },
        signal,
      });
      const code = Number(/^(\d{3})/.exec(info.response)?.[1] ?? 250);
      if (info.rejected.length) return { ok: false, status: code, answer: redact(`rejected ${info.rejected.join(', ')}: ${info.response}`, secrets), retryable: false };
      return { ok: true, status: code, answer: redact(info.response, secrets), retryable: false };
    } catch (err) {
      const e = err as NodemailerError;
      // No SMTP reply (connection, DNS, TLS, abort): deliver.ts tells timeout from network.
      if (e.responseCode === undefined) {
        if (e.code === 'EAUTH' || e.code === 'ENOAUTH' || e.code === 'ECONFIG' || e.code === 'EENVELOPE') {
          return { ok: false, status: 'bad-request', answer: redact(`${e.code}: ${e.message}`, secrets), retryable: false };
        }
        throw err;
      }
      // RFC 5321 §4.2.1: 4yz is transient, 5yz permanent (nodemailer's `permanent` says which, 503 aside).
      return { ok: false, status: e.responseCode, answer: redact(e.response ?? e.message, secrets), retryable: e.permanent === false };
    }
  };
  return { sendOnce, secrets, close: async () => transport.close() };
}
