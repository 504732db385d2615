import { reject, type ErrorCode } from '../../core/src/errors.ts';
import type { ErrMessage } from '../../core/src/err-message.ts';

/**
 * A whole-message rejection decided by the broker itself (ingest never sees the message),
 * in the same shape ingest publishes to the gateway's `err` topic. `detail` is written by
 * the broker, never echoed from the payload, so the message stays small.
 */
export function messageRejection(topic: string, code: ErrorCode, detail: string): Buffer {
  const msg: ErrMessage = { topic, received: 0, accepted: 0, rejected: [reject(code, detail)] };
  return Buffer.from(JSON.stringify(msg));
}
