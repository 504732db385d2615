import type { IngestState } from './ingest-state.ts';

export type Stage = 'decode' | 'validate' | 'message' | 'report' | 'hook';

/** An exception ingest did not expect: a defect, so it is logged with its stack and counted. */
export function unexpected(s: IngestState, stage: Stage, err: unknown, topic: string, index?: number): void {
  s.metrics.ingestUnexpected.inc({ stage });
  s.log.error({ err, stage, topic, index }, 'unexpected error in ingest');
}

/** What a rejection on the gateway's err topic says of an unexpected exception: its class only; the rest goes to the log (`unexpected`). */
export const errorName = (err: unknown) => (err instanceof Error ? err.name : 'a non-Error value');
