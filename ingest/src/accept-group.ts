import type { Reading } from '../../core/src/types.ts';
import type { IngestState } from './ingest-state.ts';
import { encodeLine } from './spool.ts';

/**
 * A group is appended at once when its lines reach this size: what one event-loop run
 * brings in is bounded by its input (a stream read, a socket read), not small (thousands
 * of messages of up to HW_MQTT_MAX_PAYLOAD_BYTES), and one string must stay far below V8's limit.
 */
export const GROUP_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Messages checked in one run of the event loop (a batch read from the gateway stream, or
 * the packets of one socket read) go to the spool together, in one write(2) at the end of
 * that run instead of one per message: per single-reading message the write was the
 * ingest's largest cost (BENCHMARKS.md, issue 13). Each message's line is made at once, so
 * the spool's size limit counts the group's bytes before the append (backpressure.ts).
 * Each message's promise settles once the append did (its PUBACK or stream
 * acknowledgement follows); if the append fails, every message of the group is refused
 * and nothing of them is taken, as for one.
 */
export function createAcceptGroup(s: IngestState, accept: (readings: Reading[], lines: string) => void) {
  let group: { readings: Reading[]; lines: string; promise: Promise<void>; resolve(): void; reject(err: unknown): void } | undefined;

  function flush(): void {
    const g = group;
    if (!g) return; // appended already (it reached GROUP_MAX_BYTES)
    group = undefined;
    s.grouped = 0;
    s.groupedBytes = 0;
    try {
      accept(g.readings, g.lines);
      g.resolve();
    } catch (err) {
      // The spool could not take them (disk full, I/O error): no acknowledgement, so the gateways keep the messages.
      g.reject(err);
      s.log.error({ err: err instanceof Error ? err.message : String(err), readings: g.readings.length }, 'spool append failed; the messages are not acknowledged');
    }
  }

  return {
    /** Adds one message's accepted readings; the promise settles when the group's append did. */
    add(readings: readonly Reading[]): Promise<void> {
      if (!group) {
        let resolve!: () => void;
        let reject!: (err: unknown) => void;
        const promise = new Promise<void>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        // Callers handle the rejection (no PUBACK); this copy never goes unhandled.
        promise.catch(() => undefined);
        group = { readings: [], lines: '', promise, resolve, reject };
        queueMicrotask(flush);
      }
      const line = encodeLine(readings);
      group.lines += line;
      for (const r of readings) group.readings.push(r);
      s.grouped += readings.length;
      s.groupedBytes += Buffer.byteLength(line);
      const promise = group.promise;
      if (s.groupedBytes >= GROUP_MAX_BYTES) flush();
      return promise;
    },
  };
}
