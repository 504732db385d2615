import { join } from 'node:path';
import type { Config } from '../../core/src/config.ts';
import type { IngestConfig } from './ingest-types.ts';

/** The ingest worker's settings from the process config. Each worker has a spool of its own, under its data directory. */
export function ingestConfigFrom(config: Readonly<Config>): IngestConfig {
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
    spool: {
      dir: join(config.dataDir, 'spool'),
      maxBytes: i.spoolMaxBytes,
      segmentMaxReadings: i.spoolSegmentMaxReadings,
      segmentMaxMs: i.spoolSegmentMaxMs,
      fsyncIntervalMs: i.spoolFsyncIntervalMs,
    },
  };
}
