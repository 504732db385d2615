import { randomUUID } from 'node:crypto';
import type { MessageBus } from './bus.ts';
import type { Logger } from './logger.ts';
import type { PipelineCommand, PipelineEvent } from './pipeline-events.ts';
import { decodeEvent, decodeReply, decodeRequest } from './pipeline-wire.ts';
import { INTERNAL_REPLIES, internalTopics } from './topics.ts';
import type { CommandHandler, EventHandler, Transport } from './transport.ts';

/**
 * Accepted readings go out in one message per event-loop turn, not one per gateway
 * message: with single-reading messages that halves the broker's work per reading
 * (multi-process figures in BENCHMARKS.md). At most this many per message (~200 bytes each).
 */
export const FORWARD_MAX_READINGS = 1000;
/** Requests waiting for a reply, at most (a stalled rules service must not grow the API's memory). */
const MAX_PENDING_REQUESTS = 10_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;

export interface BusTransportOptions {
  logger: Logger;
  /** Connects the bus, for an MQTT client bus (after the handlers are subscribed); absent in the broker's own process. */
  connect?: () => Promise<void>;
  /** Name in the reply topic; unique per process. */
  requester?: string;
}

/** The pipeline over the MessageBus: MQTT internal topics through the broker (core/src/topics.ts `internalTopics`). */
export function createBusTransport(bus: MessageBus, opts: BusTransportOptions): Transport {
  const log = opts.logger.child({ module: 'transport' });
  const events = new Set<PipelineEvent>();
  const commands = new Set<PipelineCommand>();
  const dropped = (what: string, topic: string) => log.warn({ topic }, `internal message dropped: not a valid ${what}`);
  const send = (topic: string, payload: unknown, qos: 0 | 1, what: string) =>
    void bus.publish(topic, JSON.stringify(payload), { qos }).catch((err: Error) => log.warn({ err: err.message, topic, what }, 'pipeline event not published'));

  let forwarding: unknown[] = [];
  const forward = () => {
    const all = forwarding;
    forwarding = [];
    const { topic, qos } = internalTopics['readings.accepted'];
    for (let i = 0; i < all.length; i += FORWARD_MAX_READINGS) send(topic, all.slice(i, i + FORWARD_MAX_READINGS), qos, 'readings.accepted');
  };

  const replyTopic = `${INTERNAL_REPLIES}/${opts.requester ?? randomUUID().slice(0, 12)}`;
  const pending = new Map<string, { resolve: (v: unknown) => void; timer: NodeJS.Timeout }>();
  let repliesSubscribed: Promise<void> | undefined;

  return {
    kind: 'mqtt',
    publish(event, payload, partitionKey) {
      if (event === 'readings.accepted') {
        const rs = payload as unknown[];
        if (rs.length === 0) return;
        if (forwarding.length === 0) setImmediate(forward);
        for (const r of rs) forwarding.push(r);
        return;
      }
      const t = internalTopics[event];
      const topic = 'partitioned' in t && t.partitioned ? `${t.topic}/${partitionKey ?? 'default'}` : t.topic;
      send(topic, payload, t.qos, event);
    },
    async subscribe(event, handler) {
      events.add(event);
      const t = internalTopics[event];
      const filter = 'partitioned' in t && t.partitioned ? `${t.topic}/+` : t.topic;
      await bus.subscribe(filter, (topic, raw) => {
        const payload = decodeEvent(event, raw);
        if (payload === undefined) return dropped(event, topic);
        return (handler as EventHandler<typeof event>)(payload);
      });
    },
    async handle(command, handler) {
      if (commands.has(command)) throw new Error(`a handler for ${command} is already registered`);
      commands.add(command);
      const t = internalTopics[command];
      await bus.subscribe(t.topic, async (topic, raw) => {
        const req = decodeRequest(command, raw);
        // A reply goes only to an internal replies topic, never where a payload says.
        if (!req || !req.replyTo.startsWith(`${INTERNAL_REPLIES}/`) || req.replyTo.split('/').length !== 4) return dropped(`${command} request`, topic);
        let reply: unknown;
        try {
          reply = await (handler as CommandHandler<typeof command>)(req.request);
        } catch (err) {
          log.error({ err, command }, 'a command handler failed');
          return;
        }
        send(req.replyTo, { id: req.id, reply }, 1, `${command} reply`);
      });
    },
    async request(command, request, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS) {
      repliesSubscribed ??= bus.subscribe(replyTopic, (topic, raw) => {
        const r = decodeReply(command, raw);
        if (!r) return dropped(`${command} reply`, topic);
        pending.get(r.id)?.resolve(r.reply);
      });
      await repliesSubscribed;
      if (pending.size >= MAX_PENDING_REQUESTS) {
        log.warn({ command, pending: pending.size }, 'too many requests waiting for a reply: not sent');
        return undefined;
      }
      const id = randomUUID();
      return new Promise((resolve) => {
        const done = (v: unknown) => {
          clearTimeout(pending.get(id)?.timer);
          pending.delete(id);
          resolve(v as never);
        };
        pending.set(id, { resolve: done, timer: setTimeout(() => done(undefined), timeoutMs) });
        send(internalTopics[command].topic, { id, replyTo: replyTopic, request }, 1, command);
      });
    },
    consumers: () => ({ events: [...events], commands: [...commands] }),
    async start() {
      await opts.connect?.();
    },
    async close() {
      if (forwarding.length) forward();
      for (const p of [...pending.values()]) p.resolve(undefined);
      await bus.close();
    },
  };
}
