/**
 * When to try again. "Full jitter" exponential back-off (a random delay in
 * [0, min(cap, base · 2^(n−1))]): retries from many notifiers after one outage spread
 * out instead of arriving together (AWS Architecture Blog, "Exponential Backoff And
 * Jitter", 2015).
 */
export interface RetryPolicy {
  /** Attempts in one `send` call, the first included (bounded: 1–10). */
  maxAttempts: number;
  /** Back-off base, ms. */
  baseDelayMs: number;
  /** Longest back-off between two attempts, ms. */
  maxDelayMs: number;
  /**
   * Longest Retry-After honoured within one `send` call, ms. A receiver that asks for a
   * longer wait gets it: the call returns retryable with `retryAfterMs`, and the outbox
   * tries again at that time rather than holding a sender that long.
   */
  retryAfterCapMs: number;
}

export function backoffDelayMs(attempt: number, p: RetryPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
  return Math.floor(random() * ceiling);
}

/** Retry-After is delta-seconds or an HTTP-date (RFC 9110 §10.2.3); anything else is ignored. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/**
 * Whether an HTTP status is worth retrying: a server error, 408 (the receiver timed
 * us out) or 429 (too many requests). Any other 4xx is our request being wrong, and
 * sending it again would be refused again (RFC 9110 §15.5).
 */
export function retryableHttpStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}
