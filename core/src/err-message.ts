import type { Rejection } from './errors.ts';

/** What the gateway finds on its err topic. */
export interface ErrMessage {
  topic: string;
  received: number;
  accepted: number;
  /** The rejections, in batch order, as many as fit in ERR_MESSAGE_MAX_BYTES. */
  rejected: Rejection[];
  /** Rejections left out to keep the message under the cap (absent when none were). */
  omitted?: number;
}

/**
 * Largest err payload, in bytes. Each rejection is bounded (core/src/errors.ts
 * REASON_MAX_CHARS), but a batch may hold a thousand of them: past this cap the rest are
 * counted in `omitted`, so one message in never becomes megabytes out. 4 KiB holds at
 * least four rejections of the longest kind and typically about twenty.
 */
export const ERR_MESSAGE_MAX_BYTES = 4096;

/** The err payload for one message, at most ERR_MESSAGE_MAX_BYTES bytes of UTF-8 JSON. */
export function errMessage(topic: string, received: number, accepted: number, rejected: readonly Rejection[]): string {
  const head = `{"topic":${JSON.stringify(topic)},"received":${received},"accepted":${accepted},"rejected":[`;
  // Room kept for the closing `],"omitted":<n>}`.
  const tailRoom = 32;
  let bytes = Buffer.byteLength(head) + tailRoom;
  const parts: string[] = [];
  for (const r of rejected) {
    const s = JSON.stringify({ code: r.code, message: r.message, index: r.index, sensor: r.sensor });
    const b = Buffer.byteLength(s) + 1;
    if (bytes + b > ERR_MESSAGE_MAX_BYTES) break;
    bytes += b;
    parts.push(s);
  }
  const omitted = rejected.length - parts.length;
  const out = `${head}${parts.join(',')}]${omitted ? `,"omitted":${omitted}` : ''}}`;
  // A topic longer than the cap (the broker bounds topics well below it) still gets a bounded answer.
  return Buffer.byteLength(out) <= ERR_MESSAGE_MAX_BYTES ? out : JSON.stringify({ received, accepted, rejected: [], omitted: rejected.length });
}
