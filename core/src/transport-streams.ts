import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { HwError } from './errors.ts';
import { fnv1a } from './fnv1a.ts';
import type { Logger } from './logger.ts';
import type { PipelineCommand, PipelineEvent, PipelineEvents } from './pipeline-events.ts';
import { decodeReply, decodeRequest, decodeValue, MAX_INTERNAL_MESSAGE_BYTES, MAX_ITEMS_PER_MESSAGE } from './pipeline-wire.ts';
import { createEventStream, type EventStream, type Follower } from './streams/event-stream.ts';
import type { ConsumeOptions, StreamConsumer } from './streams/group-consumer.ts';
import { followLog, type LogFollower } from './streams/log-follower.ts';
import { createPartitionedLog, type PartitionedLog } from './streams/partitioned-log.ts';
import { packReadings, unpackReadings } from './streams/readings-codec.ts';
import type { Codec, StreamEntry } from './streams/stream-entry.ts';
import { upCodec } from './streams/up-codec.ts';
import { checkPartitionCount } from './streams/partition-lease.ts';
import type { CommandHandler, EventHandler, EventMeta, EventReplay, SubscribeOptions, Transport } from './transport.ts';

/**
 * The distributed topology's transport: Redis Streams (docs/streams.md). Each event has
 * one route, declared here:
 *
 * - `gateway.up` → log `<prefix>:up`, partitioned by enterprise; the ingest workers are
 *   one consumer group over all partitions (any number of workers; a dead one's entries
 *   are claimed by the others), reading in order: a worker handles a partition's entries
 *   only once the older ones are acknowledged (group-consumer.ts `ordered`), so each
 *   enterprise's readings reach the rules in the order its gateways sent them. `deliver`
 *   resolves once Redis has the entry: the broker sends its PUBACK then.
 * - `readings.accepted`, `readings.rejected`, `gateway.presence` → log `<prefix>:pipeline`,
 *   partitioned by enterprise, in order per enterprise; each rules worker consumes the
 *   partitions it owns (one sensor's state in one worker). Every API replica follows the
 *   log too (without a group) for its live readings.
 * - `alert.event` → one stream `<prefix>:alert-events` every API replica follows; its
 *   entry id is the event's id (`meta.id`), the same on every replica and after restarts.
 * - `alert.command` → Redis pub/sub to the channel of the enterprise's partition, where the
 *   owning rules worker listens; the reply comes back on the requester's own channel. A
 *   command nobody answers times out (the API says so): it is never run later by surprise.
 * - `service.health`, `insights.live` → pub/sub: latest wins, a missed one is replaced by
 *   the next.
 *
 * Consumers acknowledge a log entry only after their handler and the events it caused
 * are safe (`flush`): a crash re-delivers the entry, never loses it; handlers are
 * idempotent (store writes are; the rules engine rebuilds from the store).
 */

/** Where each event travels between processes (complete by type: a new event needs a route). */
export const STREAM_ROUTES = {
  'gateway.up': 'log <prefix>:up, consumer group ingest (shared)',
  'readings.accepted': 'log <prefix>:pipeline, group rules (owned partitions); API replicas follow',
  'readings.rejected': 'log <prefix>:pipeline, group rules (owned partitions)',
  'gateway.presence': 'log <prefix>:pipeline, group rules (owned partitions)',
  'alert.event': 'stream <prefix>:alert-events, every API replica follows; entry id = event id',
  'alert.command': 'pub/sub <prefix>:cmd:<partition>, reply on the requester\'s channel',
  'service.health': 'pub/sub <prefix>:service.health',
  'insights.live': 'pub/sub <prefix>:insights.live',
} as const satisfies { [K in PipelineEvent | PipelineCommand]: string };

export interface StreamsTransportOptions {
  /** A connection the transport owns and closes (blocking reads and pub/sub get duplicates). */
  redis: Redis;
  logger: Logger;
  /** This process's name among its unit's replicas: the consumer name and the reply channel. */
  instance: string;
  /** P: partitions of each log (HW_STREAMS_PARTITIONS); every process must agree. */
  partitions: number;
  /** The partitions this process consumes where work is shared by ownership (a rules worker's); all when absent. */
  owned?: readonly number[];
  /** Unconsumed entries a partition of the `up` log may hold before the broker withholds PUBACKs. */
  maxBacklog: number;
  /** Key prefix; default `hw`. */
  prefix?: string;
  /** Consumer tuning (tests shorten claimIdleMs). */
  consume?: ConsumeOptions;
}

/** Messages packed per stream entry (docs/streams.md "Measured cost": packing multiplies messages/s). */
const PACK = 50;
/**
 * Entries per partition one consumer reads at a time. Entries hold at most PACK messages
 * and 1 MiB (partitioned-log.ts maxEntryChars), so one read brings at most P × 8 MiB into
 * a worker's memory (64 MiB with the default 8 partitions), whatever size gateways send.
 */
const READ_COUNT = 8;
/** Readings per `readings.accepted` entry at most: half of what a reader accepts in one (MAX_ITEMS_PER_MESSAGE). */
const READINGS_PER_EVENT = MAX_ITEMS_PER_MESSAGE / 2;
/** The pipeline log's backlog limit, entries per partition: reached, ingest waits (and the `up` backlog then holds gateways back). */
const PIPELINE_MAX_BACKLOG = 200_000;
/** Publishes waiting for Redis at most; beyond, publish() is refused and logged (flush() still waits for the rest). */
const MAX_UNSENT = 100_000;
const DEFAULT_REQUEST_TIMEOUT_MS = 5000;
const MAX_PENDING_REQUESTS = 10_000;

type LogEvent = 'readings.accepted' | 'readings.rejected' | 'gateway.presence';
const PIPELINE_EVENTS: readonly PipelineEvent[] = ['readings.accepted', 'readings.rejected', 'gateway.presence'];
type PubSubEvent = 'service.health' | 'insights.live';
const PUBSUB_EVENTS: readonly PipelineEvent[] = ['service.health', 'insights.live'];

/**
 * A pipeline log entry: the event's name and its payload (accepted readings packed as
 * tuples, core/src/streams/readings-codec.ts), checked on the way in like any message from
 * another process.
 */
const pipelineCodec: Codec<{ e: LogEvent; p: unknown }> = {
  encode: (v) => JSON.stringify(v.e === 'readings.accepted' ? { e: v.e, ...packReadings(v.p as PipelineEvents['readings.accepted']) } : v),
  decode(d) {
    if (d.length > MAX_INTERNAL_MESSAGE_BYTES) throw new Error(`entry of ${d.length} characters`);
    const v = JSON.parse(d) as { e?: unknown; p?: unknown; k?: unknown; r?: unknown };
    if (typeof v !== 'object' || v === null || !PIPELINE_EVENTS.includes(v.e as PipelineEvent)) throw new Error('not a pipeline event');
    const p = decodeValue(v.e as LogEvent, v.e === 'readings.accepted' ? unpackReadings(v.k, v.r) : v.p);
    if (p === undefined) throw new Error(`not a valid ${String(v.e)}`);
    return { e: v.e as LogEvent, p };
  },
};
const alertCodec: Codec<PipelineEvents['alert.event']> = {
  encode: (v) => JSON.stringify(v),
  decode(d) {
    const v = decodeValue('alert.event', d.length > MAX_INTERNAL_MESSAGE_BYTES ? undefined : JSON.parse(d));
    if (!v) throw new Error('not a valid alert.event');
    return v;
  },
};

export function createStreamsTransport(opts: StreamsTransportOptions): Transport & { logs(): { up: PartitionedLog<unknown>; pipeline: PartitionedLog<unknown> } } {
  const log = opts.logger.child({ module: 'transport' });
  const prefix = opts.prefix ?? 'hw';
  const P = opts.partitions;
  const redis = opts.redis;
  const groupLost = (group: string) => log.error({ group }, 'consumer group missing (Redis lost its data?): created again from the start of each stream');
  const up = createPartitionedLog({ redis, codec: upCodec, onDeadLetter: (d) => log.error(d, 'gateway message dead-lettered'), onGroupLost: groupLost }, {
    name: `${prefix}:up`, partitions: P, groups: ['ingest'], maxBacklog: opts.maxBacklog, maxPerEntry: PACK,
  });
  const pipeline = createPartitionedLog({ redis, codec: pipelineCodec, onDeadLetter: (d) => log.error(d, 'pipeline event dead-lettered'), onGroupLost: groupLost }, {
    name: `${prefix}:pipeline`, partitions: P, groups: ['rules'], maxBacklog: PIPELINE_MAX_BACKLOG, maxPerEntry: PACK,
  });
  const alerts: EventStream<PipelineEvents['alert.event']> = createEventStream({ redis, codec: alertCodec }, { key: `${prefix}:alert-events` });
  const channel = (event: PubSubEvent) => `${prefix}:${event}`;
  const commandChannel = (p: number) => `${prefix}:cmd:${p}`;
  const replyChannel = `${prefix}:reply:${opts.instance}:${randomUUID().slice(0, 8)}`;
  const owned = opts.owned ?? Array.from({ length: P }, (_, p) => p);
  const partitionOf = (key: string) => fnv1a(key) % P;

  const handlers = new Map<PipelineEvent, { handler: EventHandler<never>; everyReplica: boolean }[]>();
  const commands = new Map<PipelineCommand, CommandHandler<never>>();
  const pending = new Map<string, { resolve: (v: unknown) => void; timer: NodeJS.Timeout }>();
  let subscriber: Redis | undefined;
  const consumers: StreamConsumer[] = [];
  const followers: (LogFollower | Follower)[] = [];
  let started = false;
  let closing = false;
  // Where an API replica starts following alert events: the stream's newest id when it
  // subscribed, before it loads its history from the store, so an event appended in between
  // is applied after the history, not lost.
  let alertsFrom: Promise<string> | undefined;

  // Publishes not yet held by Redis. Each is retried until Redis takes it (a full backlog
  // or a Redis outage only delays it), so `flush` resolves once all are safe.
  let unsent = 0;
  // Publishes refused outright (too many waiting): a batch that caused one is not acknowledged.
  let refusedSends = 0;
  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inFlight.add(p);
    const done = () => void inFlight.delete(p);
    p.then(done, done);
  };
  async function appendUntilHeld(what: string, append: () => Promise<string>): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await append();
      } catch (err) {
        if (closing && attempt > 3) throw err;
        if (attempt === 0 || attempt % 20 === 0) log.warn({ err: (err as Error).message, what, attempt }, 'event not held by Redis yet: retrying');
        // Jittered back-off, at most 2 s: a full backlog drains, a restarted Redis comes back.
        await new Promise((r) => setTimeout(r, Math.min(2000, 50 * 2 ** Math.min(attempt, 6)) * (0.5 + Math.random() / 2)));
      }
    }
  }
  /** Appends until Redis holds it; resolves then, rejects when it could not (too many waiting, or the transport closed first: both logged). */
  const send = (what: string, append: () => Promise<string>): Promise<void> => {
    if (unsent >= MAX_UNSENT) {
      refusedSends++;
      log.error({ what, unsent }, 'too many events waiting for Redis: this one is not sent');
      return Promise.reject(new Error(`${what} not sent: ${unsent} events wait for Redis`));
    }
    unsent++;
    const held = appendUntilHeld(what, append).then(
      () => { unsent--; },
      (err: Error) => {
        unsent--;
        log.error({ err: err.message, what }, 'event lost: Redis did not take it before the transport closed');
        throw err;
      },
    );
    track(held);
    return held;
  };
  /** Fire and forget: a failure is logged by send. */
  const post = (what: string, append: () => Promise<string>) => void send(what, append).catch(() => undefined);

  const none: EventMeta = {};
  /** Handlers of one event, in subscription order, filtered by delivery mode; the promises of those that return one. */
  function dispatch<E extends PipelineEvent>(event: E, payload: PipelineEvents[E], everyReplica: boolean, meta: EventMeta = none): Promise<unknown>[] {
    const out: Promise<unknown>[] = [];
    for (const h of handlers.get(event) ?? []) {
      if (h.everyReplica !== everyReplica) continue;
      const p = (h.handler as EventHandler<E>)(payload, meta);
      if (p) out.push(p);
    }
    return out;
  }

  /** A batch from a group: handlers run in stream order, then the events they caused are flushed, then (by returning) the batch is acknowledged. */
  async function handleBatch<T>(batch: StreamEntry<T>[], each: (payload: T) => Promise<unknown>[]): Promise<void> {
    const refusedBefore = refusedSends;
    const waits: Promise<unknown>[] = [];
    for (const entry of batch) for (const p of each(entry.payload)) waits.push(p);
    await Promise.all(waits);
    await transport.flush();
    // An event this batch caused was refused: leave the batch pending, it is delivered again.
    if (refusedSends !== refusedBefore) throw new Error('events caused by this batch were not sent: not acknowledged');
  }

  function onMessage(ch: string, raw: Buffer): void {
    try {
      if (ch === replyChannel) {
        const r = decodeReply('alert.command', raw);
        if (r) pending.get(r.id)?.resolve(r.reply);
        return;
      }
      for (const event of PUBSUB_EVENTS as PubSubEvent[]) {
        if (ch !== channel(event)) continue;
        const v = decodeValue(event, parseJson(raw));
        if (v === undefined) return void log.warn({ channel: ch }, 'pub/sub message dropped: not a valid event');
        for (const p of dispatch(event, v, true)) p.catch((err: unknown) => log.error({ err, event }, 'a consumer failed'));
        return;
      }
      if (ch.startsWith(`${prefix}:cmd:`)) void answer(raw);
    } catch (err) {
      log.error({ err, channel: ch }, 'pub/sub message failed');
    }
  }

  async function answer(raw: Buffer): Promise<void> {
    const h = commands.get('alert.command') as CommandHandler<'alert.command'> | undefined;
    const req = decodeRequest('alert.command', raw);
    // A reply goes only to a reply channel of this deployment, never where a payload says.
    if (!h || !req || !req.replyTo.startsWith(`${prefix}:reply:`) || req.replyTo.length > 200) return void log.warn('command dropped: not a valid request');
    let reply: unknown;
    try {
      reply = await h(req.request);
      // The event it caused is in the alert stream before the requester hears the answer.
      await transport.flush();
    } catch (err) {
      log.error({ err }, 'a command handler failed');
      return;
    }
    await redis.publish(req.replyTo, JSON.stringify({ id: req.id, reply })).catch((err: Error) => log.warn({ err: err.message }, 'command reply not sent'));
  }

  const transport: Transport & { logs(): { up: PartitionedLog<unknown>; pipeline: PartitionedLog<unknown> } } = {
    kind: 'redis-streams',
    logs: () => ({ up: up as PartitionedLog<unknown>, pipeline: pipeline as PartitionedLog<unknown> }),
    publish(event, payload, partitionKey) {
      if (event === 'readings.accepted') {
        // One entry per enterprise, so each goes to the partition its rules worker owns.
        const byEnterprise = new Map<string, unknown[]>();
        for (const r of payload as PipelineEvents['readings.accepted']) {
          const list = byEnterprise.get(r.enterpriseId);
          if (list) list.push(r);
          else byEnterprise.set(r.enterpriseId, [r]);
        }
        // In slices a reader takes (MAX_ITEMS_PER_MESSAGE): ingest hands over a whole spool
        // group at once, tens of thousands of readings.
        for (const [key, rs] of byEnterprise) {
          for (let from = 0; from < rs.length; from += READINGS_PER_EVENT) {
            const slice = from === 0 && rs.length <= READINGS_PER_EVENT ? rs : rs.slice(from, from + READINGS_PER_EVENT);
            post(event, () => pipeline.append(key, { e: event, p: slice }));
          }
        }
        return;
      }
      if (event === 'readings.rejected' || event === 'gateway.presence') {
        const key = partitionKey ?? (payload as { enterpriseId?: string }).enterpriseId;
        if (!key) return void log.error({ event }, 'event without an enterprise: not sent');
        post(event, () => pipeline.append(key, { e: event as LogEvent, p: payload }));
        return;
      }
      if (event === 'alert.event') return post(event, () => alerts.append(payload as PipelineEvents['alert.event']));
      if (event === 'gateway.up') return void log.error('gateway.up goes by deliver(), never publish()');
      void redis.publish(channel(event as PubSubEvent), JSON.stringify(payload)).catch((err: Error) => log.debug({ err: err.message, event }, 'pub/sub event not published'));
    },
    async deliver(event, payload, partitionKey) {
      // An alert event is held once the stream has it (retried until then, as published ones are).
      if (event === 'alert.event') return send(event, () => alerts.append(payload as PipelineEvents['alert.event']));
      if (event !== 'gateway.up') throw new Error(`${event} is published, not delivered`);
      await up.append(partitionKey, payload as PipelineEvents['gateway.up']);
    },
    async flush() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async subscribe(event, handler, options: SubscribeOptions = {}) {
      if (started) throw new Error('subscribe before start()');
      const list = handlers.get(event) ?? [];
      list.push({ handler: handler as EventHandler<never>, everyReplica: Boolean(options.everyReplica) });
      handlers.set(event, list);
      if (event === 'alert.event') alertsFrom ??= alerts.lastId();
    },
    async handle(command, handler) {
      if (commands.has(command)) throw new Error(`a handler for ${command} is already registered`);
      commands.set(command, handler as unknown as CommandHandler<never>);
    },
    async request(command, request, { partitionKey, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS } = {}) {
      if (!partitionKey) throw new HwError('HW_ERR_CONFIG', `${command} needs a partition key (the enterprise) in the distributed topology`);
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
        redis.publish(commandChannel(partitionOf(partitionKey)), JSON.stringify({ id, replyTo: replyChannel, request })).then(
          (receivers) => {
            // Nobody listens on that partition (its rules worker is down): say so now.
            if (receivers === 0) done(undefined);
          },
          () => done(undefined),
        );
      });
    },
    async replay(event, since, limit) {
      if (event !== 'alert.event') return undefined;
      const r = await alerts.replay(since, limit);
      return { events: r.events.map((e) => ({ id: e.id, payload: e.payload })), gap: r.gap, more: r.more } as unknown as EventReplay<typeof event>;
    },
    consumers: () => ({ events: [...handlers.keys()], commands: [...commands.keys()] }),
    async start() {
      started = true;
      const recorded = await checkPartitionCount(redis, P);
      if (recorded !== P) throw new HwError('HW_ERR_CONFIG', `HW_STREAMS_PARTITIONS is ${P} here but ${recorded} for this deployment (recorded in Redis at hw:config:partitions): every service must use the same; changing it needs drained streams and that key deleted`);
      const producesUp = true; // every process may be the broker; the log's groups are created idempotently
      void producesUp;
      await up.start();
      await pipeline.start();
      const groupOf = (events: readonly PipelineEvent[]) => events.some((e) => handlers.get(e)?.some((h) => !h.everyReplica));
      if (handlers.get('gateway.up')?.length) {
        consumers.push(up.consume('ingest', opts.instance, (batch) => handleBatch(batch, (m) => dispatch('gateway.up', m, false)), { count: READ_COUNT, deadLetterFailures: false, ...opts.consume, ordered: true }));
      }
      if (groupOf(PIPELINE_EVENTS)) {
        consumers.push(pipeline.consume('rules', opts.instance, (batch) => handleBatch(batch, (m) => dispatch(m.e, m.p as never, false)), { count: READ_COUNT, deadLetterFailures: false, ...opts.consume, partitions: owned }));
      }
      if (PIPELINE_EVENTS.some((e) => handlers.get(e)?.some((h) => h.everyReplica))) {
        followers.push(followLog(redis, Array.from({ length: P }, (_, p) => pipeline.streamKey(p)), pipelineCodec, (entries) => {
          for (const e of entries) for (const p of dispatch(e.payload.e, e.payload.p as never, true)) p.catch((err: unknown) => log.error({ err }, 'a consumer failed'));
        }, { count: READ_COUNT, onError: (err) => log.debug({ err }, 'pipeline follow read failed; retrying') }));
      }
      if (handlers.get('alert.event')?.length) {
        // From the newest event when it subscribed: what came before is loaded from the store (the API's history) and replayed from the stream on request.
        followers.push(alerts.follow(await (alertsFrom ?? Promise.resolve('$')), async (events) => {
          for (const e of events) await Promise.all(dispatch('alert.event', e.payload, true, { id: e.id }));
        }, { onError: (err) => log.error({ err }, 'a consumer failed on alert events'), onUndecodable: (id) => log.warn({ id }, 'undecodable alert event skipped') }));
      }
      const channels = [
        ...(PUBSUB_EVENTS as PubSubEvent[]).filter((e) => handlers.get(e)?.length).map(channel),
        ...(commands.has('alert.command') ? owned.map(commandChannel) : []),
        replyChannel,
      ];
      subscriber = redis.duplicate();
      subscriber.on('error', (err: Error) => log.debug({ err: err.message }, 'pub/sub connection error'));
      subscriber.on('messageBuffer', (ch: Buffer, msg: Buffer) => onMessage(ch.toString(), msg));
      await subscriber.subscribe(...channels);
      for (const c of consumers) await c.start();
    },
    async stopDelivering() {
      for (const c of consumers.splice(0)) await c.stop();
      for (const f of followers.splice(0)) await f.stop();
      await subscriber?.unsubscribe().catch(() => undefined);
    },
    async close() {
      await transport.stopDelivering();
      closing = true;
      await transport.flush();
      for (const p of [...pending.values()]) p.resolve(undefined);
      await up.stop();
      await pipeline.stop();
      subscriber?.disconnect();
      redis.disconnect();
    },
  };
  return transport;
}

function parseJson(raw: Buffer): unknown {
  if (raw.length > MAX_INTERNAL_MESSAGE_BYTES) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}
