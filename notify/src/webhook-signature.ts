import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * `X-Hazardwatch-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * The timestamp is inside the signed text, so a receiver that checks it against its own
 * clock refuses a captured request replayed later (the scheme Stripe documents for its
 * webhooks). Several `v1=` entries may be sent while a secret is being rotated.
 */
export const SIGNATURE_HEADER = 'X-Hazardwatch-Signature';
export const IDEMPOTENCY_HEADER = 'X-Hazardwatch-Idempotency-Key';

/** Default replay window, seconds: clocks a few minutes apart still agree. */
export const DEFAULT_TOLERANCE_S = 300;
/** Longest header a receiver parses: a few signatures, not an attacker's megabyte. */
const HEADER_MAX_CHARS = 1024;
const MAX_PARTS = 8;

export function signWebhook(body: string, secret: string, unixS: number): string {
  const mac = createHmac('sha256', secret).update(`${unixS}.`).update(body).digest('hex');
  return `t=${unixS},v1=${mac}`;
}

export type SignatureCheck = { ok: true; t: number } | { ok: false; reason: 'malformed' | 'outside-window' | 'mismatch' };

/**
 * For receivers: whether `header` signs `body` with `secret` and was made within
 * `toleranceS` of now. Returns why not, rather than throwing. `body` must be the raw
 * bytes as received: a re-serialised JSON object does not match.
 */
export function verifyWebhookSignature(
  body: string | Buffer,
  header: string | undefined,
  secret: string,
  opts: { toleranceS?: number; nowMs?: number } = {},
): SignatureCheck {
  const toleranceS = opts.toleranceS ?? DEFAULT_TOLERANCE_S;
  if (!header || header.length > HEADER_MAX_CHARS) return { ok: false, reason: 'malformed' };
  let t: number | undefined;
  const sigs: Buffer[] = [];
  for (const part of header.split(',').slice(0, MAX_PARTS)) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) t = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) sigs.push(Buffer.from(value, 'hex'));
  }
  if (t === undefined || sigs.length === 0) return { ok: false, reason: 'malformed' };
  const nowS = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowS - t) > toleranceS) return { ok: false, reason: 'outside-window' };
  const expected = createHmac('sha256', secret).update(`${t}.`).update(body).digest();
  return sigs.some((s) => timingSafeEqual(s, expected)) ? { ok: true, t } : { ok: false, reason: 'mismatch' };
}
