/**
 * A gateway's `up` message as a stream entry: its topic and its bytes, exactly. Payloads
 * are almost always UTF-8 text (JSON, SenML), kept as text (`u` + topic + NUL + text);
 * anything else is kept as base64 (`b` …), so ingest sees the very bytes the gateway sent
 * and rejects bad ones with a coded error, as in one process.
 */
import { isUtf8 } from 'node:buffer';
import type { GatewayMessage } from '../pipeline-events.ts';
import type { Codec } from './stream-entry.ts';

/** Topic and payload are checked by the broker before this (topic ≤ 1 KB, payload ≤ HW_MQTT_MAX_PAYLOAD_BYTES). */
export const upCodec: Codec<GatewayMessage> = {
  encode(m) {
    if (m.topic.includes('\0')) throw new Error('a topic holds no NUL');
    return isUtf8(m.payload) ? `u${m.topic}\0${m.payload.toString('utf8')}` : `b${m.topic}\0${m.payload.toString('base64')}`;
  },
  decode(d) {
    const nul = d.indexOf('\0');
    const kind = d[0];
    if (nul < 2 || (kind !== 'u' && kind !== 'b')) throw new Error('not a gateway message entry');
    const body = d.slice(nul + 1);
    return { topic: d.slice(1, nul), payload: kind === 'u' ? Buffer.from(body, 'utf8') : Buffer.from(body, 'base64') };
  },
};
