import type { Reading } from '../../core/src/types.ts';
import type { IngestState } from './ingest-state.ts';

export type WaitReason = 'spool-full' | 'store-lag' | 'queued';

/**
 * Backpressure: acknowledgements withheld while the spool is full or the store lags, and
 * released in order once there is room. A held message keeps its PUBACK, so the gateway
 * keeps the message meanwhile; nothing accepted is ever dropped.
 */
export function createBackpressure(s: IngestState, accept: (readings: Reading[]) => void, schedule: (delayMs?: number) => void) {
  const { spool, blocked, config, log } = s;
  const ackMaxPending = config.ackMaxPendingReadings ?? 50_000;
  /**
   * The store answers (its last write succeeded) but has fallen this far behind, in memory
   * or in spool files still to replay: hold acknowledgements. Counting the files matters: a
   * write that times out under load looks like an outage for a moment, the spool takes
   * what arrives meanwhile, and without this the replay would then race an intake the
   * store cannot keep up with, so the lag would grow until the spool filled.
   */
  const lagging = () => s.retryDelayMs === 0 && s.memReadings + s.grouped + s.spoolBacklog >= ackMaxPending;

  return {
    /** Why a new message must wait, if it must. */
    mustWait: (): WaitReason | undefined => (spool.full(s.groupedBytes) ? 'spool-full' : lagging() ? 'store-lag' : blocked.length ? 'queued' : undefined),

    /** Hold a message's acknowledgement: the promise settles when its readings are in the spool. */
    hold(readings: Reading[], wait: WaitReason): Promise<void> {
      // The PUBACK waits until the spool has room again, or the store has caught up; the
      // gateway keeps the message meanwhile.
      const spooled = new Promise<void>((resolve) => blocked.push({ readings, resolve }));
      s.metrics.ingestAckWaits.inc({ reason: wait === 'queued' ? (spool.full() ? 'spool-full' : 'store-lag') : wait });
      if (blocked.length === 1 && wait === 'spool-full') log.warn({ spoolBytes: spool.bytes(), maxBytes: config.spool.maxBytes }, 'spool full: withholding acknowledgements');
      schedule();
      return spooled;
    },

    /** Accept held messages while there is room; a message whose spool append fails stays held (no PUBACK) and is retried. */
    release(): void {
      while (blocked.length && !spool.full() && !lagging()) {
        const b = blocked[0]!;
        try {
          accept(b.readings);
        } catch (err) {
          log.error({ err: (err as Error).message }, 'spool append failed; the message stays unacknowledged and is retried');
          schedule(1000);
          return;
        }
        blocked.shift();
        b.resolve();
      }
    },
  };
}

export type Backpressure = ReturnType<typeof createBackpressure>;
