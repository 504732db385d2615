import { setTimeout as sleep } from 'node:timers/promises';
import type { RulesEngine } from './engine-types.ts';

/** How long a split rules worker waits for its alert events to reach the store before it gives up on a batch (which is then delivered again). */
const MAX_WAIT_MS = 30_000;

/**
 * Resolves once every alert event the engine has made is in the store: a split rules worker
 * acknowledges a batch of stream entries (and answers a command) only then, because at a
 * restart it restores its alerts from the store: an event only in the stream would make it
 * raise the alert again under a new id. Calls within one event-loop turn share one wait.
 * While the store is down the worker takes no new entries (the stream holds them).
 */
export function persistedAlerts(engine: Pick<RulesEngine, 'flush' | 'status'>): () => Promise<void> {
  let shared: Promise<void> | undefined;
  const wait = async () => {
    await new Promise((r) => setImmediate(r));
    shared = undefined;
    for (let waited = 0; ; waited += 1000) {
      await engine.flush();
      if (engine.status().unsavedEvents === 0) return;
      if (waited >= MAX_WAIT_MS) throw new Error(`alert events not stored after ${MAX_WAIT_MS / 1000} s: the batch is not acknowledged`);
      await sleep(1000);
    }
  };
  return () => (shared ??= wait());
}
