import { join } from 'node:path';
import type { Config } from '../../core/src/config.ts';
import type { IngestConfig } from './ingest-worker.ts';
import { shardOwner } from './shard.ts';

/** The ingest worker's settings from the process config; a shard gets its own spool. */
export function ingestConfigFrom(config: Readonly<Config>, shard?: { index: number; count: number }): IngestConfig {
  const i = config.ingest;
  return {
    batchMaxReadings: i.batchMaxReadings,
    flushIntervalMs: i.flushIntervalMs,
    maxReadingsPerMessage: i.maxReadingsPerMessage,
    maxPayloadBytes: config.mqtt.maxPayloadBytes,
    maxFutureSkewMs: i.maxFutureSkewMs,
    maxAgeMs: i.maxAgeMs,
    memoryMaxReadings: i.memoryMaxReadings,
    writeConcurrency: i.writeConcurrency,
    ackMaxPendingReadings: i.ackMaxPendingReadings,
    owns: shard ? shardOwner(shard) : undefined,
    spool: {
      dir: join(config.dataDir, shard ? `spool-${shard.index}-of-${shard.count}` : 'spool'),
      maxBytes: i.spoolMaxBytes,
      segmentMaxReadings: i.spoolSegmentMaxReadings,
      segmentMaxMs: i.spoolSegmentMaxMs,
      fsyncIntervalMs: i.spoolFsyncIntervalMs,
    },
  };
}
