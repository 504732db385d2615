import { setTimeout as sleepFor } from 'node:timers/promises';
import { redact } from './answer.ts';
import { backoffDelayMs, type RetryPolicy } from './backoff.ts';
import { IDEMPOTENCY_KEY_PATTERN, type DeliveryResult, type NotifyMessage, type Recipient, type SendOnce, type SendOptions, type SendResult } from './channel.ts';
import { createTokenBucket, type TokenBucketOptions } from './token-bucket.ts';

/** What each channel holds to itself: its rate, its timeout, its retries. */
export interface DeliveryPolicy {
  /** One attempt's time limit, ms (connect, send and answer together). */
  timeoutMs: number;
  retry: RetryPolicy;
  rate: Omit<TokenBucketOptions, 'now'>;
}

export interface DeliverDeps {
  now?: () => number;
  /** Waits `ms`, rejecting when `signal` fires (tests inject one that records the waits). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Strings that must never appear in an answer (the adapter's secrets and secret-bearing URLs). */
  secrets?: readonly string[];
}

const defaultSleep = (ms: number, signal?: AbortSignal) => sleepFor(ms, undefined, signal ? { signal } : {});

/**
 * Wraps one adapter's single attempt into a channel's `send`: take a token from the
 * channel's bucket, attempt under the channel's timeout, and on a retryable failure back
 * off (jittered, or as the receiver's Retry-After says, up to a cap) and try again, at
 * most `maxAttempts` times. Never throws: every outcome is a result for the delivery log.
 */
export function deliver(sendOnce: SendOnce, policy: DeliveryPolicy, deps: DeliverDeps = {}) {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? defaultSleep;
  const random = deps.random ?? Math.random;
  const secrets = deps.secrets ?? [];
  const bucket = createTokenBucket({ ...policy.rate, now });
  const maxAttempts = Math.max(1, Math.min(10, policy.retry.maxAttempts));

  const attempt = async (message: NotifyMessage, recipient: Recipient, opts: SendOptions): Promise<SendResult> => {
    const timeout = AbortSignal.timeout(policy.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    try {
      return await sendOnce(message, recipient, { idempotencyKey: opts.idempotencyKey, signal });
    } catch (err) {
      if (opts.signal?.aborted) return aborted();
      if (timeout.aborted) return { ok: false, status: 'timeout', answer: `no answer within ${policy.timeoutMs} ms`, retryable: true };
      // No answer at all (refused, reset, DNS): the receiver may be back soon.
      return { ok: false, status: 'network', answer: redact(describeError(err), secrets), retryable: true };
    }
  };

  return async function send(message: NotifyMessage, recipient: Recipient, opts: SendOptions): Promise<DeliveryResult> {
    let attempts = 0;
    if (!IDEMPOTENCY_KEY_PATTERN.test(opts.idempotencyKey)) {
      return { ok: false, status: 'bad-request', answer: 'idempotency key must be 1-200 printable ASCII characters without spaces', retryable: false, attempts };
    }
    for (;;) {
      if (opts.signal?.aborted) return { ...aborted(), attempts };
      const r = bucket.reserve();
      if (!r.ok) return { ok: false, status: 'throttled', answer: `channel rate limit: next send in ${r.retryAfterMs} ms`, retryable: true, retryAfterMs: r.retryAfterMs, attempts };
      if (r.waitMs > 0) {
        try {
          await sleep(r.waitMs, opts.signal);
        } catch {
          r.cancel();
          return { ...aborted(), attempts };
        }
      }
      attempts++;
      const result = await attempt(message, recipient, opts);
      opts.onAttempt?.(attempts, result);
      if (result.ok || !result.retryable || attempts >= maxAttempts || opts.signal?.aborted) return { ...result, attempts };
      let delay = backoffDelayMs(attempts, policy.retry, random);
      if (result.retryAfterMs !== undefined) {
        // Longer than we hold a sender: the outbox comes back at the time the receiver named.
        if (result.retryAfterMs > policy.retry.retryAfterCapMs) return { ...result, attempts };
        delay = Math.max(delay, result.retryAfterMs);
      }
      try {
        await sleep(delay, opts.signal);
      } catch {
        return { ...result, attempts };
      }
    }
  };
}

function aborted(): SendResult {
  // Not confirmed, so still owed: the outbox sends it again after the restart that aborted it.
  return { ok: false, status: 'aborted', answer: 'cancelled by the caller', retryable: true };
}

function describeError(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string }; code?: string };
  const cause = e.cause ? `: ${e.cause.code ?? ''} ${e.cause.message}` : '';
  return `${e.code ? `${e.code} ` : ''}${e.message ?? String(err)}${cause}`;
}
