import type { Reading } from '../../core/src/types.ts';
import type { IngestState, MemEntry } from './ingest-state.ts';
import { writeBatch } from './store-write.ts';

/** Take up to batchMaxReadings from memory, splitting an entry if needed. */
function takeFromMemory(s: IngestState) {
  const { mem, config } = s;
  const batch: Reading[] = [];
  const counts: [seq: number, n: number][] = [];
  while (mem.length && batch.length < config.batchMaxReadings) {
    const e = mem[0]!;
    const room = config.batchMaxReadings - batch.length;
    const part = e.readings.length <= room ? e.readings : e.readings.slice(0, room);
    for (const r of part) batch.push(r);
    counts.push([e.seq, part.length]);
    if (part.length === e.readings.length) mem.shift();
    else e.readings = e.readings.slice(room);
  }
  return { batch, counts };
}

function putBack(s: IngestState, batch: Reading[], counts: [number, number][]) {
  let i = 0;
  const back: MemEntry[] = counts.map(([seq, n]) => ({ seq, readings: batch.slice(i, (i += n)) }));
  s.mem.unshift(...back);
}

/**
 * Ship memory with up to `writeConcurrency` batches in flight (InfluxDB gains from 2–4);
 * `stored` runs after each stored batch, so messages held for store lag go in as soon as
 * there is room. Rejects on the first failed batch, its readings back in memory.
 */
export async function shipMemory(s: IngestState, stored: () => void): Promise<void> {
  const { mem, spool, config } = s;
  const inflight = new Set<Promise<void>>();
  let failure: unknown;
  while ((mem.length || inflight.size) && failure === undefined) {
    while (mem.length && inflight.size < config.writeConcurrency && failure === undefined) {
      const { batch, counts } = takeFromMemory(s);
      const p: Promise<void> = writeBatch(s, batch).then(
        () => {
          s.memReadings -= batch.length;
          for (const [seq, n] of counts) spool.shipped(seq, n);
          stored();
        },
        (err: unknown) => {
          putBack(s, batch, counts);
          failure = err;
        },
      ).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    if (inflight.size) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  spool.release();
  if (failure !== undefined) throw failure;
}
