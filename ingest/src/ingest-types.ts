import type { Catalogue } from '../../core/src/agents.ts';
import type { MessageBus } from '../../core/src/bus.ts';
import type { Rejection } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Reading } from '../../core/src/types.ts';
import type { SpoolConfig } from './spool.ts';

/** The ingest worker's public shapes; ingest-worker.ts re-exports them (the step files import them from here, so no file imports ingest-worker.ts back). */

export interface IngestConfig {
  batchMaxReadings: number;
  flushIntervalMs: number;
  maxReadingsPerMessage: number;
  maxPayloadBytes: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
  /** Readings held in memory for the fast path before ingest falls back to the spool files. */
  memoryMaxReadings: number;
  /** Store writes in flight at once. */
  writeConcurrency: number;
  /**
   * Flow control: while the store answers but is this many readings behind, new messages
   * wait unacknowledged (QoS 1 flow control) so that lag stays bounded. During an outage
   * the spool absorbs instead. Default 50,000.
   */
  ackMaxPendingReadings?: number;
  spool: SpoolConfig;
}

export interface IngestDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  bus: MessageBus;
  logger: Logger;
  metrics: Metrics;
  /** Accepted readings, as soon as they are in the spool (the rules engine listens here). */
  onAccepted?: (readings: Reading[]) => void;
  /** Refused readings (the rules engine counts out-of-range ones as a sensor fault). */
  onRejected?: (rejections: Rejection[], ts: number, enterpriseId: string) => void;
  now?: () => number;
}

export interface HandleResult {
  accepted: number;
  rejected: Rejection[];
  /** Settles when the accepted readings are in the spool (later than the call only under backpressure). */
  spooled: Promise<void> | undefined;
}

export interface IngestWorker {
  /**
   * Start shipping. With `subscribe` (default) the worker subscribes to every gateway's
   * `up` topic on the bus; the all-in-one instead calls `handle` from the broker's
   * beforeAck hook so that the PUBACK follows the spool append.
   */
  start(opts?: { subscribe?: boolean }): Promise<void>;
  /**
   * Handle one MQTT message (exposed for tests). Never throws: an exception in decoding or
   * validation becomes a coded rejection (HW_ERR_INGEST_INTERNAL) of the reading, or of the
   * whole message, on the gateway's err topic, and is logged and counted.
   */
  handle(topic: string, payload: Buffer): HandleResult;
  /**
   * The broker-side hook (the all-in-one's beforeAck, and the bus subscription): settles
   * when the PUBACK may go. Should handle() ever throw regardless, the promise rejects, so
   * the message is not acknowledged as if it had been taken.
   */
  receive(topic: string, payload: Buffer): Promise<void> | undefined;
  /** Store everything accepted so far; resolves when it is stored (or rejects if the store is down). */
  flush(): Promise<void>;
  /** Graceful stop: ships what it can within `timeoutMs` (default 10 s); the spool keeps the rest. */
  stop(timeoutMs?: number): Promise<void>;
  pending(): number;
  spoolBytes(): number;
}
