import type { Reading } from '../../core/src/types.ts';
import type { IngestState } from './ingest-state.ts';
import { writeBatch } from './store-write.ts';

/** Write a replayed segment in batches, `writeConcurrency` at a time; rejects if any batch fails. */
async function writeAll(s: IngestState, readings: Reading[]): Promise<void> {
  const { batchMaxReadings, writeConcurrency } = s.config;
  let next = 0;
  const lane = async () => {
    while (next < readings.length) {
      const from = next;
      next += batchMaxReadings;
      await writeBatch(s, readings.slice(from, from + batchMaxReadings));
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: writeConcurrency }, lane));
  const failed = lanes.find((l) => l.status === 'rejected');
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/**
 * While behind: store the oldest spool segment that did not go through memory, in order,
 * and delete it. False when there is none left (ingest has caught up).
 */
export async function replayNextSegment(s: IngestState): Promise<boolean> {
  const { spool } = s;
  if (!s.behind) return false;
  const segs = spool.segments();
  const seg = segs.find((x) => !x.inMemory);
  if (!seg) {
    s.behind = false;
    s.spoolBacklog = s.countBacklog();
    return false;
  }
  // Caught up to the open segment: new messages go to memory again from here on.
  if (seg === segs.at(-1) && seg.fd !== undefined) s.behind = false;
  spool.nextToReplay();
  const readings = spool.read(seg);
  try {
    await writeAll(s, readings);
  } catch (err) {
    // Still behind: the segment waits for the next run (without this, a store failure
    // while replaying the last segment left it unreplayed, and a full spool full, for good).
    s.behind = true;
    throw err;
  }
  s.metrics.ingestReplayed.inc(readings.length);
  spool.release(seg);
  s.spoolBacklog = s.countBacklog();
  if (readings.length) s.log.info({ segment: seg.seq, readings: readings.length }, 'spool segment replayed');
  return true;
}
