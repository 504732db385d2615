import { readBounded, redact } from './answer.ts';
import { parseRetryAfter, retryableHttpStatus } from './backoff.ts';
import type { SendResult } from './channel.ts';

export interface HttpAnswer {
  status: number;
  /** At most ANSWER_READ_MAX_BYTES of the body. */
  body: string;
  retryAfterMs?: number;
}

/**
 * One HTTP request of an HTTP channel (webhook, robots, SMS gateway). Redirects are not
 * followed: a configured endpoint that moved is a configuration error to show, not a
 * reason to post an alert and its signature somewhere else. Throws only when there is
 * no answer (network, timeout, abort); deliver.ts classifies that.
 */
export async function httpRequest(
  url: string,
  init: { method: string; headers: Record<string, string>; body?: string; signal: AbortSignal },
  now: () => number = Date.now,
): Promise<HttpAnswer> {
  const res = await fetch(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal, redirect: 'manual' });
  const body = await readBounded(res);
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
  return retryAfterMs === undefined ? { status: res.status, body } : { status: res.status, body, retryAfterMs };
}

/** The plain HTTP verdict: 2xx is delivered; 408, 429 and 5xx are worth another try. */
export function httpResult(a: HttpAnswer, secrets: readonly string[]): SendResult {
  const ok = a.status >= 200 && a.status < 300;
  const r: SendResult = { ok, status: a.status, answer: redact(a.body, secrets), retryable: !ok && retryableHttpStatus(a.status) };
  if (!ok && a.retryAfterMs !== undefined) r.retryAfterMs = a.retryAfterMs;
  return r;
}
