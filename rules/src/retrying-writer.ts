import type { Logger } from '../../core/src/logger.ts';

/**
 * A queue of records on their way to the store, written one batch at a time in order; a
 * refused batch goes back to the front and is retried after RETRY_MS. With `max`, past that
 * many waiting (a store down for days) the oldest are dropped, logged with the count.
 */
export interface RetryingWriter<T> {
  push(item: T): void;
  /** Resolves once everything pushed so far has been written (or has failed and been re-queued). */
  flush(): Promise<void>;
  /** Records waiting for the store. */
  pending(): number;
}

const RETRY_MS = 1000;

export function createRetryingWriter<T>(opts: { what: string; write: (batch: T[]) => Promise<void>; log: Logger; max?: number }): RetryingWriter<T> {
  let waiting: T[] = [];
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    writing = writing.then(async () => {
      if (waiting.length === 0) return;
      const batch = waiting;
      waiting = [];
      try {
        await opts.write(batch);
      } catch (err) {
        waiting = batch.concat(waiting);
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
    push(item) {
      waiting.push(item);
      void flush();
    },
    flush,
    pending: () => waiting.length,
  };
}
