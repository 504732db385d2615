import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The broker's answer to a full stream partition (HW_ERR_BACKLOG_FULL): it withholds the
 * PUBACK and tries again while the backlog drains, so the gateway keeps its message and
 * stops sending more (QoS 1 flow control), rather than being disconnected. Bounded: at
 * most `maxHeld` messages wait at once and each at most `maxWaitMs`; past either the
 * refusal stands (no PUBACK; the gateway sends the message again later).
 */
export interface HoldOptions {
  /** Called once per message that has to wait. */
  onHeld: () => void;
  maxHeld?: number;
  maxWaitMs?: number;
}

const isFull = (err: unknown) => (err as { code?: string }).code === 'HW_ERR_BACKLOG_FULL';

export function holdWhileFull<A extends unknown[]>(deliver: (...args: A) => Promise<void>, opts: HoldOptions): (...args: A) => Promise<void> {
  const maxHeld = opts.maxHeld ?? 10_000;
  const maxWaitMs = opts.maxWaitMs ?? 60_000;
  let held = 0;
  return async (...args: A) => {
    try {
      return await deliver(...args);
    } catch (err) {
      if (!isFull(err) || held >= maxHeld) throw err;
    }
    opts.onHeld();
    held++;
    try {
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        // The log re-reads backlogs every 250 ms: try again about then, with jitter so held gateways do not retry in step.
        await sleep(200 + Math.floor(Math.random() * 200));
        try {
          return await deliver(...args);
        } catch (err) {
          if (!isFull(err) || Date.now() >= deadline) throw err;
        }
      }
    } finally {
      held--;
    }
  };
}
