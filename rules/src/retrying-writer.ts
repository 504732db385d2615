import type { Logger } from '../../core/src/logger.ts';

/**
 * A queue of records on their way to the store, written one batch at a time in order; a
 * refused batch goes back to the front and is retried after RETRY_MS. With `max`, past that
 * many waiting (a store down for days) the oldest are dropped, logged with the count.
 *
 * A record pushed with `ready` is written only once that promise has settled (alert events
 * wait until the alert event stream holds them: the store is never ahead of the stream, so
 * a worker that dies between the two leaves the event in the stream, where its successor
 * finds it, rebuild.ts). Batches keep push order, so a record never overtakes an earlier one.
 */
export interface RetryingWriter<T> {
  push(item: T, ready?: Promise<unknown>): void;
  /** Resolves once everything pushed so far has been written (or has failed and been re-queued). */
  flush(): Promise<void>;
  /** Records waiting for the store. */
  pending(): number;
}

const RETRY_MS = 1000;

interface Waiting<T> {
  item: T;
  /** Settles (never rejects) when the record may be written. */
  ready?: Promise<void>;
}

export function createRetryingWriter<T>(opts: { what: string; write: (batch: T[]) => Promise<void>; log: Logger; max?: number }): RetryingWriter<T> {
  let waiting: Waiting<T>[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    writing = writing.then(async () => {
      if (waiting.length === 0) return;
      const batch = waiting;
      waiting = [];
      for (const w of batch) if (w.ready) await w.ready;
      try {
        await opts.write(batch.map((w) => w.item));
      } catch (err) {
        // Already ready: the retry does not wait again.
        waiting = batch.map((w) => ({ item: w.item })).concat(waiting);
        if (opts.max !== undefined && waiting.length > opts.max) {
          const dropped = waiting.length - opts.max;
          waiting = waiting.slice(dropped);
          opts.log.error({ dropped }, `${opts.what} dropped: the store has refused them too long`);
        }
        opts.log.warn({ err: (err as Error).message, records: batch.length }, `${opts.what} not stored yet; will retry`);
        setTimeout(flush, RETRY_MS).unref();
      }
    });
    return writing;
  };
  return {
    push(item, ready) {
      // Settled at once with a handler of its own, so a rejection is never left unhandled while the record waits.
      waiting.push(ready ? { item, ready: ready.then(() => undefined, () => undefined) } : { item });
      void flush();
    },
    flush,
    pending: () => waiting.length,
  };
}
