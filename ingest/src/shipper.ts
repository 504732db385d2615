import type { IngestState } from './ingest-state.ts';
import { replayNextSegment } from './replay-spool.ts';
import { shipMemory } from './ship-memory.ts';

/**
 * Shipping to the store: memory first, then spool segments while behind; one shipper run
 * at a time, on a timer (`schedule`) or at once (`ship`). `release` is the backpressure's:
 * it lets held messages in whenever a store write made room.
 */
export function createShipper(s: IngestState, release: () => void) {
  const { spool, metrics: m } = s;
  let timer: NodeJS.Timeout | undefined;
  let shipping: Promise<void> | undefined;
  let stopped = false;

  const schedule = (delayMs = s.config.flushIntervalMs) => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void ship().catch(() => {});
    }, Math.max(delayMs, s.retryDelayMs));
  };

  const shipOnce = async (): Promise<boolean> => {
    if (s.mem.length) {
      await shipMemory(s, release);
      return true;
    }
    return replayNextSegment(s);
  };

  /** One shipper at a time; resolves when memory and spool are drained, rejects on a store failure. */
  function ship(): Promise<void> {
    shipping ??= (async () => {
      try {
        while (await shipOnce()) release();
        spool.rollIfStale();
        spool.release();
        release();
      } catch (err) {
        // The store is down: messages held back for lag now go to the spool.
        release();
        schedule(s.retryDelayMs);
        throw err;
      } finally {
        shipping = undefined;
        // Work that arrived while this run was finishing (held messages, or memory a
        // released message filled) gets a run of its own.
        if (s.mem.length || s.blocked.length) schedule();
        m.ingestPending.set(s.memReadings);
        m.ingestSpoolBytes.set(spool.bytes());
      }
    })();
    return shipping;
  }

  return {
    ship,
    schedule,
    /** Wait for the run under way, then run once more: resolves when everything accepted so far is stored. */
    async flush(): Promise<void> {
      while (shipping) await shipping.catch(() => {});
      await ship();
    },
    /** No more timed runs (stop); `flush` still ships. */
    halt(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export type Shipper = ReturnType<typeof createShipper>;
