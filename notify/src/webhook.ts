import type { NotifyMessage, SendOnce } from './channel.ts';
import { httpRequest, httpResult } from './http-post.ts';
import { IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signWebhook } from './webhook-signature.ts';

export interface WebhookConfig {
  url: string;
  /** HMAC key for X-Hazardwatch-Signature (secret). */
  secret: string;
  /** Extra static headers (an Authorization the receiver wants); values are treated as secrets. */
  headers?: Record<string, string>;
}

/** The JSON a webhook receives: the alert, the event, why it fired, and where to look. */
export function webhookBody(m: NotifyMessage, idempotencyKey: string) {
  const { alert, ...event } = m.event;
  return {
    idempotencyKey,
    event: { alertId: event.alertId, kind: event.kind, ts: event.ts, ...(event.by ? { by: event.by } : {}), ...(event.note ? { note: event.note } : {}) },
    alert,
    reason: alert.reason,
    link: m.link,
    locale: m.locale,
    subject: m.subject,
    text: m.text,
  };
}

export function webhookAdapter(cfg: WebhookConfig, now: () => number = Date.now): { sendOnce: SendOnce; secrets: string[] } {
  const secrets = [cfg.secret, ...Object.values(cfg.headers ?? {})];
  const sendOnce: SendOnce = async (message, _recipient, { idempotencyKey, signal }) => {
    const body = JSON.stringify(webhookBody(message, idempotencyKey));
    const headers = {
      ...cfg.headers,
      'content-type': 'application/json; charset=utf-8',
      // Signed when sent, not when decided: a resend carries a fresh timestamp inside the window.
      [SIGNATURE_HEADER]: signWebhook(body, cfg.secret, Math.floor(now() / 1000)),
      [IDEMPOTENCY_HEADER]: idempotencyKey,
    };
    return httpResult(await httpRequest(cfg.url, { method: 'POST', headers, body, signal }, now), secrets);
  };
  return { sendOnce, secrets };
}
