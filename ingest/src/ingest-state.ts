import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { Reading } from '../../core/src/types.ts';
import type { IngestConfig, IngestDeps } from './ingest-types.ts';
import { RecentTimestamps } from './recent-timestamps.ts';
import { createSpool, type Spool } from './spool.ts';

/** Accepted readings of one message, waiting in memory for the store; `seq` is their spool segment. */
export interface MemEntry {
  seq: number;
  readings: Reading[];
}

/** A message waiting for spool space or for the store to catch up: its PUBACK goes when `resolve` is called. */
export interface HeldMessage {
  readings: Reading[];
  resolve: () => void;
}

/**
 * The state one ingest worker's steps share (check-message.ts, accept.ts, backpressure.ts,
 * the shipper and its ship-memory.ts and replay-spool.ts): built once by createIngestWorker,
 * mutated only by those steps, all on one JavaScript task.
 */
export interface IngestState {
  deps: IngestDeps;
  config: IngestConfig;
  log: Logger;
  now: () => number;
  metrics: Metrics;
  /** Duplicate detection per sensor (bounded: recent-timestamps.ts). */
  recent: RecentTimestamps;
  spool: Spool;
  /** Messages accepted on the fast path, not yet stored, oldest first; at most `memoryMaxReadings` readings. */
  mem: MemEntry[];
  memReadings: number;
  /** Readings checked in this run of the event loop, waiting for their group's spool append (accept-group.ts). */
  grouped: number;
  /** Their spool bytes: the spool counts as full when its size and these reach its limit. */
  groupedBytes: number;
  /** Shipping from the spool files rather than memory: the store fell behind, or segments were left by an earlier run. */
  behind: boolean;
  /**
   * Readings in spool files that only a file replay will store. Kept as a count because
   * the hot path asks for it per message; recounted from the segments after each replay.
   */
  spoolBacklog: number;
  /** Delay before the next store write after a failure, ms; 0 while the store answers. */
  retryDelayMs: number;
  /** Messages waiting for spool space (backpressure), oldest first. */
  blocked: HeldMessage[];
  /**
   * Recount `spoolBacklog` from the segments. Segments left by an earlier run count once
   * read: their size in readings is not known before (readings -1).
   */
  countBacklog(): number;
}

export function createIngestState(deps: IngestDeps, config: IngestConfig): IngestState {
  const now = deps.now ?? Date.now;
  const spool = createSpool(config.spool, deps.logger, now);
  const countBacklog = () => spool.segments().reduce((n, seg) => n + (seg.inMemory ? 0 : Math.max(0, seg.readings)), 0);
  return {
    deps, config, now, spool, countBacklog,
    log: deps.logger.child({ module: 'ingest' }),
    metrics: deps.metrics,
    recent: new RecentTimestamps(),
    mem: [],
    memReadings: 0,
    grouped: 0,
    groupedBytes: 0,
    behind: spool.segments().length > 0,
    spoolBacklog: countBacklog(),
    retryDelayMs: 0,
    blocked: [],
  };
}
