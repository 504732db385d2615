import { describeValue } from '../../core/src/describe.ts';
import { MAX_READING_SUBSCRIPTIONS, type ClientMessage } from '../../core/src/ws-messages.ts';

/** Longest sensor id a subscription may name (registry ids are at most 64 characters). */
export const MAX_SUBSCRIBED_ID_CHARS = 64;

export type ParsedClientMessage = { ok: true; msg: ClientMessage } | { ok: false; message: string };

/**
 * A dashboard's WebSocket message, parsed and checked with bounded work: a plain object
 * whose `type` is a known string, and for `subscribe-readings` an array of at most
 * MAX_READING_SUBSCRIPTIONS ids of at most MAX_SUBSCRIBED_ID_CHARS characters. Nothing of
 * untrusted depth is stringified; a refusal describes the offending value with
 * describeValue (its type and a short prefix). Never throws.
 */
export function parseClientMessage(text: string): ParsedClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: 'message is not JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, message: `message must be an object with a type, not ${describeValue(raw)}` };
  const type = (raw as { type?: unknown }).type;
  if (type === 'ping') return { ok: true, msg: { type: 'ping' } };
  if (type === 'subscribe-readings') {
    const sensors = (raw as { sensors?: unknown }).sensors;
    if (!Array.isArray(sensors) || sensors.length > MAX_READING_SUBSCRIPTIONS) {
      return { ok: false, message: `sensors must be an array of at most ${MAX_READING_SUBSCRIPTIONS} sensor ids` };
    }
    for (let i = 0; i < sensors.length; i++) {
      const id: unknown = sensors[i];
      if (typeof id !== 'string' || id.length > MAX_SUBSCRIBED_ID_CHARS) {
        return { ok: false, message: `sensors[${i}] must be a sensor id of at most ${MAX_SUBSCRIBED_ID_CHARS} characters, not ${describeValue(id)}` };
      }
    }
    return { ok: true, msg: { type: 'subscribe-readings', sensors: sensors as string[] } };
  }
  return { ok: false, message: `unknown message type ${describeValue(type)}` };
}
