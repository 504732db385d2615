import type { Redis } from 'ioredis';

/**
 * A blocking reader on a connection of its own: `step` runs again and again (an XREAD
 * BLOCK and what follows it) until `stop`; a step that fails (Redis unreachable) is
 * reported to `onReadError` and tried again after 500 ms. `stop` interrupts a blocking
 * read and waits for the step in progress. Shared by the alert event stream's follower
 * and the partitioned log's follower.
 */
export function startReadLoop(redis: Redis, step: (reader: Redis) => Promise<void>, onReadError?: (err: unknown) => void): { stop(): Promise<void> } {
  const reader = redis.duplicate();
  // Connection errors surface as failed steps (retried), not as events.
  reader.on('error', () => undefined);
  let running = true;
  const loop = (async () => {
    while (running) {
      try {
        await step(reader);
      } catch (err) {
        if (!running) break;
        onReadError?.(err);
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  })();
  return {
    async stop() {
      running = false;
      reader.disconnect();
      await loop;
    },
  };
}
