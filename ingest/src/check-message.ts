import { reject, type Rejection } from '../../core/src/errors.ts';
import type { Reading } from '../../core/src/types.ts';
import { decodePayload } from './decode.ts';
import type { IngestState } from './ingest-state.ts';
import { errorName, unexpected } from './unexpected-error.ts';
import { isRejection, validateReading } from './validate.ts';

export interface Checked {
  /** Readings the message held (0 when it could not be decoded). */
  received: number;
  accepted: Reading[];
  rejected: Rejection[];
}

/** decode → validate → duplicates; a reading whose check throws is rejected alone, the rest go on. */
export function checkMessage(s: IngestState, topic: string, t: { enterpriseId: string; gatewayId: string }, payload: Buffer): Checked {
  const { config, deps, now } = s;
  const rejected: Rejection[] = [];
  const accepted: Reading[] = [];
  let decoded;
  try {
    decoded = decodePayload(payload, { maxBytes: config.maxPayloadBytes, maxReadings: config.maxReadingsPerMessage }, now());
  } catch (err) {
    unexpected(s, 'decode', err, topic);
    rejected.push(reject('HW_ERR_INGEST_INTERNAL', `the message could not be decoded (${errorName(err)}); nothing of it is stored`));
    return { received: 0, accepted, rejected };
  }
  if (!decoded.ok) {
    rejected.push(decoded.rejection);
    return { received: 0, accepted, rejected };
  }
  const raws = decoded.readings;
  s.metrics.ingestReceived.inc(raws.length);
  const ctx = {
    registry: deps.registry.current, catalogue: deps.catalogue, enterpriseId: t.enterpriseId, gatewayId: t.gatewayId,
    nowMs: now(), maxFutureSkewMs: config.maxFutureSkewMs, maxAgeMs: config.maxAgeMs,
  };
  // One try per message, not per reading: the loop resumes after a reading that threw.
  let i = 0;
  while (i < raws.length) {
    try {
      for (; i < raws.length; i++) {
        const r = validateReading(raws[i]!, i, ctx);
        if (isRejection(r)) rejected.push(r);
        else if (s.recent.seen(r.sensorId, r.ts)) rejected.push(reject('HW_ERR_DUPLICATE', `${r.sensorId} at ${r.ts}`, { index: i, sensor: r.sensorId }));
        else accepted.push(r);
      }
    } catch (err) {
      unexpected(s, 'validate', err, topic, i);
      rejected.push(reject('HW_ERR_INGEST_INTERNAL', `reading ${i} could not be checked (${errorName(err)}); it is not stored`, { index: i }));
      i++;
    }
  }
  return { received: raws.length, accepted, rejected };
}
