/**
 * A token bucket per channel: `burst` sends at once, then `ratePerS`. Each send reserves
 * a token up front (the balance may go below zero), so concurrent senders are spaced in
 * the order they asked without a queue of their own; the wait is the time until the
 * balance was back at zero. A reservation that would wait longer than `maxWaitMs` is
 * refused instead, which bounds how many senders can be waiting at once to
 * burst + ratePerS · maxWaitMs.
 */
export interface TokenBucketOptions {
  /** Sustained rate, sends per second. */
  ratePerS: number;
  /** Sends allowed at once after a quiet period. */
  burst: number;
  /** Longest a send waits for its token, ms; a longer wait is refused. */
  maxWaitMs: number;
  /** Clock, ms (injected in tests). */
  now?: () => number;
}

export type Reservation = { ok: true; waitMs: number; cancel(): void } | { ok: false; retryAfterMs: number };

export interface TokenBucket {
  reserve(): Reservation;
}

export function createTokenBucket(opts: TokenBucketOptions): TokenBucket {
  const now = opts.now ?? Date.now;
  const perMs = opts.ratePerS / 1000;
  let tokens = opts.burst;
  let at = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(opts.burst, tokens + (t - at) * perMs);
    at = t;
  };
  return {
    reserve() {
      refill();
      const after = tokens - 1;
      // The epsilon keeps 1 / (10/60/1000) = 6000.000000000001 from rounding up to 6001 ms.
      const waitMs = after >= 0 ? 0 : Math.ceil(-after / perMs - 1e-9);
      if (waitMs > opts.maxWaitMs) return { ok: false, retryAfterMs: waitMs };
      tokens = after;
      let cancelled = false;
      // A send that gives up while waiting hands its token back to those behind it.
      return { ok: true, waitMs, cancel: () => { if (!cancelled) { cancelled = true; refill(); tokens = Math.min(opts.burst, tokens + 1); } } };
    },
  };
}
