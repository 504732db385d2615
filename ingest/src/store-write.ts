import type { Reading } from '../../core/src/types.ts';
import type { IngestState } from './ingest-state.ts';

/**
 * One batch to the store. A failure backs off (250 ms doubling to 5 s, with jitter so
 * workers do not retry in step) and rethrows: the readings stay in the spool.
 */
export async function writeBatch(s: IngestState, batch: Reading[]): Promise<void> {
  const m = s.metrics;
  const end = m.ingestWriteSeconds.startTimer();
  try {
    await s.deps.store.writeReadings(batch);
    end();
    m.ingestWritten.inc(batch.length);
    s.retryDelayMs = 0;
  } catch (err) {
    m.ingestWriteErrors.inc();
    s.retryDelayMs = Math.min(Math.max(s.retryDelayMs * 2, 250), 5000) * (0.5 + Math.random() / 2);
    s.log.warn({ err: (err as Error).message, readings: batch.length, retryInMs: Math.round(s.retryDelayMs) }, 'store write failed; readings stay in the spool');
    throw err;
  }
}
