import type { ErrMessage } from '../../core/src/err-message.ts';
import { topics } from '../../core/src/topics.ts';
import type { Reading } from '../../core/src/types.ts';
import { accept } from './accept.ts';
import { createAcceptGroup } from './accept-group.ts';
import { createBackpressure } from './backpressure.ts';
import { createMessageHandler } from './handle-message.ts';
import { createIngestState } from './ingest-state.ts';
import type { IngestConfig, IngestDeps, IngestWorker } from './ingest-types.ts';
import { createRejectionReport } from './report-rejections.ts';
import { createShipper } from './shipper.ts';

export type { ErrMessage };
export type { HandleResult, IngestConfig, IngestDeps, IngestWorker } from './ingest-types.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * decode → validate → normalise → spool → batch → write.
 *
 * Every accepted message is appended to the spool (a write-ahead log) before its PUBACK
 * is released. While the store keeps up, readings are shipped from memory and spool
 * segments are deleted as they are confirmed. When the store is down or slow, memory
 * fills to `memoryMaxReadings`, ingest goes "behind" and ships from the spool files, in
 * order, until it has caught up. When the spool itself is full, PUBACKs are withheld
 * (backpressure) until space frees: nothing accepted is ever dropped.
 *
 * This file holds creation, start, stop and the wiring; the steps live one per file:
 * check-message.ts (decode, validate, duplicates), accept.ts (spool and memory),
 * backpressure.ts (held acknowledgements), report-rejections.ts (err topic),
 * handle-message.ts (one message through them), shipper.ts with ship-memory.ts,
 * replay-spool.ts and store-write.ts (to the store).
 */
export function createIngestWorker(deps: IngestDeps, config: IngestConfig): IngestWorker {
  const s = createIngestState(deps, config);
  // The shipper lets held messages in as store writes make room, and a held message that
  // goes in is accepted, which may ship: the three refer to each other through these closures.
  const shipper = createShipper(s, () => backpressure.release());
  const take = (readings: Reading[], lines?: string) => accept(s, shipper, readings, lines);
  const backpressure = createBackpressure(s, take, shipper.schedule);
  const { handle, receive } = createMessageHandler(s, { accept: createAcceptGroup(s, take).add, backpressure, report: createRejectionReport(s) });

  return {
    handle,
    receive,
    flush: shipper.flush,
    pending: () => s.memReadings,
    spoolBytes: () => s.spool.bytes(),
    async start({ subscribe = true } = {}) {
      if (s.behind) shipper.schedule(0);
      if (!subscribe) return;
      await deps.bus.subscribe(topics.allUp, receive);
    },
    /** Graceful stop: store what is in memory if the store answers; the spool keeps the rest. */
    async stop(timeoutMs = 10_000) {
      shipper.halt();
      const deadline = s.now() + timeoutMs;
      while (s.now() < deadline) {
        try {
          await shipper.flush();
          break;
        } catch {
          await sleep(Math.min(500, Math.max(0, deadline - s.now())));
        }
      }
      s.spool.close();
      s.spool.release(); // segments fully stored are deleted now that they are closed
      if (s.memReadings > 0 || s.spool.bytes() > 0) s.log.warn({ pending: s.memReadings, spoolBytes: s.spool.bytes() }, 'stopped with readings in the spool; they are replayed at next start');
    },
  };
}
