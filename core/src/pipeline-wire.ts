import { checkReport } from './health.ts';
import type { PipelineCommands, PipelineEvents } from './pipeline-events.ts';

/**
 * Decoding pipeline events that arrive from another process. Only internal services may
 * publish on the internal topics (broker ACL), but a payload is still checked: a decoder
 * returns undefined (never throws) when the bytes are not the event, and the transport
 * drops and counts it in its log. Sizes are bounded here.
 */

/** Largest internal message, bytes: 1,000 forwarded readings are ~200 KB. */
export const MAX_INTERNAL_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Most items of a list in one message (readings, rejections, sensors of a snapshot). */
export const MAX_ITEMS_PER_MESSAGE = 10_000;

type Guard<T> = (v: unknown) => v is T;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 1000;
const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
const listOf = <T>(item: Guard<T>) => (v: unknown): v is T[] => Array.isArray(v) && v.length <= MAX_ITEMS_PER_MESSAGE && v.every(item);

const isReading = (v: unknown): v is PipelineEvents['readings.accepted'][number] =>
  isObj(v) && str(v.enterpriseId) && str(v.gatewayId) && str(v.sensorId) && str(v.agent) && num(v.ts) && num(v.value) && typeof v.unit === 'string' && num(v.valueStd);
const isRejection = (v: unknown): v is unknown => isObj(v) && str(v.code) && typeof v.message === 'string' && (v.sensor === undefined || str(v.sensor));
const isAlertEvent = (v: unknown): v is PipelineEvents['alert.event'] =>
  isObj(v) && str(v.alertId) && str(v.kind) && num(v.ts) && isObj(v.alert) && str((v.alert as Record<string, unknown>).id);
const isGrade = (v: unknown) => v === null || (isObj(v) && typeof v.grade === 'number' && Number.isInteger(v.grade) && v.grade >= 0 && v.grade <= 4 && typeof v.label === 'string');
const isExposure = (v: unknown) => v === null || (isObj(v) && str(v.sensorId) && num(v.twa8h) && num(v.lastTs));

const decoders: { [E in keyof PipelineEvents]: (v: unknown) => PipelineEvents[E] | undefined } = {
  // Bytes, not JSON: carried by its own codec (core/src/streams/up-codec.ts) and decoded by ingest.
  'gateway.up': () => undefined,
  'readings.accepted': (v) => (listOf(isReading)(v) ? v : undefined),
  'readings.rejected': (v) => (isObj(v) && num(v.ts) && listOf(isRejection)(v.rejections) ? (v as unknown as PipelineEvents['readings.rejected']) : undefined),
  'gateway.presence': (v) =>
    isObj(v) && str(v.enterpriseId) && str(v.gatewayId) && typeof v.online === 'boolean' && num(v.ts) && (v.via === 'status' || v.via === 'connect' || v.via === 'disconnect')
      ? (v as unknown as PipelineEvents['gateway.presence'])
      : undefined,
  'alert.event': (v) => (isAlertEvent(v) ? v : undefined),
  'service.health': (v) => checkReport(v),
  'insights.live': (v) =>
    isObj(v) && num(v.ts)
      && listOf((s): s is unknown => isObj(s) && str(s.sensorId) && isGrade(s.grade) && isExposure(s.exposure))(v.sensors)
      && listOf((e): e is unknown => isObj(e) && str(e.enterpriseId) && (e.grade === null || (typeof e.grade === 'number' && Number.isInteger(e.grade) && e.grade >= 0 && e.grade <= 4)))(v.enterprises)
      ? (v as unknown as PipelineEvents['insights.live'])
      : undefined,
};

const requestDecoders: { [C in keyof PipelineCommands]: (v: unknown) => PipelineCommands[C]['request'] | undefined } = {
  'alert.command': (v) =>
    isObj(v) && (v.op === 'ack' || v.op === 'resolve' || v.op === 'comment') && str(v.alertId) && str(v.by) && typeof v.note === 'string' && (v.op !== 'resolve' || str(v.reason))
      ? (v as unknown as PipelineCommands['alert.command']['request'])
      : undefined,
};
const replyDecoders: { [C in keyof PipelineCommands]: (v: unknown) => PipelineCommands[C]['reply'] | undefined } = {
  'alert.command': (v) => (v === null ? null : isAlertEvent(v) ? v : undefined),
};

const parse = (raw: Buffer): unknown => {
  if (raw.length > MAX_INTERNAL_MESSAGE_BYTES) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
};

/** A value already parsed (from a stream entry) checked as the event; undefined when it is not one. */
export function decodeValue<E extends keyof PipelineEvents>(event: E, v: unknown): PipelineEvents[E] | undefined {
  return v === undefined ? undefined : decoders[event](v);
}

export function decodeEvent<E extends keyof PipelineEvents>(event: E, raw: Buffer): PipelineEvents[E] | undefined {
  const v = parse(raw);
  return v === undefined ? undefined : decoders[event](v);
}

/** A request envelope: `id` pairs the reply, `replyTo` is the requester's reply topic. */
export function decodeRequest<C extends keyof PipelineCommands>(command: C, raw: Buffer): { id: string; replyTo: string; request: PipelineCommands[C]['request'] } | undefined {
  const v = parse(raw);
  if (!isObj(v) || !str(v.id) || !str(v.replyTo)) return undefined;
  const request = requestDecoders[command](v.request);
  return request === undefined ? undefined : { id: v.id as string, replyTo: v.replyTo as string, request };
}

export function decodeReply<C extends keyof PipelineCommands>(command: C, raw: Buffer): { id: string; reply: PipelineCommands[C]['reply'] } | undefined {
  const v = parse(raw);
  if (!isObj(v) || !str(v.id) || !('reply' in v)) return undefined;
  const reply = replyDecoders[command](v.reply);
  return reply === undefined ? undefined : { id: v.id as string, reply };
}
