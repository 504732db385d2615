/**
 * A log of P Redis streams `<name>:<p>`: an entry goes to partition FNV-1a(key) mod P, so
 * one enterprise's entries stay in order in one stream. Appends resolve once Redis has
 * the entry (the broker sends its PUBACK after), are refused with HW_ERR_BACKLOG_FULL
 * when the partition's unconsumed backlog passes the limit (the broker withholds the
 * PUBACK), and are pipelined: every append of one event-loop turn goes in one round trip.
 * Only entries every consumer group has acknowledged are trimmed. Maintenance (backlog
 * re-reads and trimming) runs on a timer from a process's first append: a process that
 * only consumes the log (a rules worker or an API replica on the `up` log) leaves it to
 * the producers instead of reading every partition's groups four times a second.
 */
import type { Redis } from 'ioredis';
import { HwError } from '../errors.ts';
import { bounded } from './bounded-option.ts';
import { fnv1a } from '../fnv1a.ts';
import { createGroupConsumer, type BatchHandler, type ConsumeOptions, type StreamConsumer, type DeadLetterHook } from './group-consumer.ts';
import { ensureGroup } from './ensure-group.ts';
import { jsonCodec, type Codec } from './stream-entry.ts';
import { readStreamPosition } from './stream-position.ts';

export interface PartitionedLogConfig {
  /** Streams are `<name>:0` … `<name>:<P-1>`; dead letters go to `<name>:dead`. */
  name: string;
  /** P, 1 … 1024. Changing it moves keys between partitions: drain the log first. */
  partitions: number;
  /**
   * Consumer groups created (at the start of each stream) when the log starts, so an
   * entry appended before its first consumer runs is neither skipped nor trimmed.
   */
  groups: readonly string[];
  /** Unconsumed entries a partition may hold before appends to it are refused. */
  maxBacklog: number;
  /** Appends queued or awaiting Redis's reply before further appends are refused; default 20,000. */
  maxInFlight?: number;
  /** XADDs per pipeline round trip at most; default 1,000. */
  maxBatch?: number;
  /**
   * Messages of one partition packed into one stream entry, in append order; default 1.
   * Packing cuts the client's per-command cost (several times the messages/s on 2 cores,
   * bench/streams.ts); the price: packed messages share an id, are acknowledged, retried
   * and dead-lettered together, and backlogs count entries, not messages.
   */
  maxPerEntry?: number;
  /**
   * Characters of encoded messages one entry holds at most (a message larger than that
   * gets an entry of its own); default 1 MiB. With the readers' COUNT it bounds what one
   * read brings into a consumer's memory, whatever size the messages are.
   */
  maxEntryChars?: number;
  /** How often backlogs are re-read and consumed entries trimmed, ms, once this process has appended; default 250. */
  maintainIntervalMs?: number;
}

export interface PartitionedLogDeps<T> {
  /** A non-blocking connection (the log never issues blocking commands on it); the caller closes it. */
  redis: Redis;
  codec?: Codec<T>;
  onDeadLetter?: DeadLetterHook;
  /** A consumer found its group gone (Redis lost its data) and created it again. */
  onGroupLost?: (group: string) => void;
}

export interface LogStats {
  appended: number;
  refused: number;
  trims: number;
}

export interface PartitionedLog<T> {
  start(): Promise<void>;
  /** Waits for appends already made, then stops maintenance. */
  stop(): Promise<void>;
  partitionOf(key: string): number;
  streamKey(partition: number): string;
  /** Resolves with the entry id once Redis holds the entry; rejects with HW_ERR_BACKLOG_FULL when refused. */
  append(key: string, payload: T): Promise<string>;
  /** Unconsumed entries of a partition, read from Redis now. */
  backlog(partition: number): Promise<number>;
  /** Re-reads every partition's backlog and trims consumed entries now (maintenance does it on a timer). */
  maintain(): Promise<void>;
  /** A consumer of `group` over all partitions, or over `options.partitions` only. */
  consume(group: string, consumer: string, handler: BatchHandler<T>, options?: ConsumeOptions): StreamConsumer;
  stats(): LogStats;
}

/** Longest partition key (an enterprise id is at most 64 characters in the registry). */
export const MAX_KEY_CHARS = 256;

interface Queued {
  partition: number;
  key: string;
  data: string;
  resolve(id: string): void;
  reject(err: unknown): void;
}

export function createPartitionedLog<T>(deps: PartitionedLogDeps<T>, config: PartitionedLogConfig): PartitionedLog<T> {
  const P = config.partitions;
  bounded('partitions', P, 1, 1024);
  if (!/^[\w.:-]{1,100}$/.test(config.name)) throw new HwError('HW_ERR_CONFIG', `stream name must be 1-100 of [A-Za-z0-9_.:-], got ${JSON.stringify(config.name)}`);
  bounded('maxBacklog', config.maxBacklog, 1, Number.MAX_SAFE_INTEGER);
  for (const g of config.groups) if (!/^[\w.:-]{1,100}$/.test(g)) throw new HwError('HW_ERR_CONFIG', `group names must be 1-100 of [A-Za-z0-9_.:-], got ${JSON.stringify(String(g).slice(0, 40))}`);
  const redis = deps.redis;
  const codec = deps.codec ?? jsonCodec<T>();
  const maxInFlight = bounded('maxInFlight', config.maxInFlight ?? 20_000, 1, 10_000_000);
  const maxBatch = bounded('maxBatch', config.maxBatch ?? 1_000, 1, 100_000);
  const maxPerEntry = bounded('maxPerEntry', config.maxPerEntry ?? 1, 1, 1_000);
  const maxEntryChars = bounded('maxEntryChars', config.maxEntryChars ?? 1024 * 1024, 1, 512 * 1024 * 1024);
  const intervalMs = bounded('maintainIntervalMs', config.maintainIntervalMs ?? 250, 1, 3_600_000);
  const keys = Array.from({ length: P }, (_, p) => `${config.name}:${p}`);

  // Backlog as last read from Redis, plus every append made since that read began: an
  // estimate that can only be high (entries consumed meanwhile are not subtracted).
  const knownBacklog = new Array<number>(P).fill(0);
  const appendedTotal = new Array<number>(P).fill(0);
  const appendedAtRead = new Array<number>(P).fill(0);
  const stats: LogStats = { appended: 0, refused: 0, trims: 0 };

  let queue: Queued[] = [];
  let scheduled = false;
  let inFlight = 0; // queued + sent, not yet answered
  let idle: Promise<void> = Promise.resolve();
  let settleIdle: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let maintaining: Promise<void> | undefined;

  /** The queue cut into stream entries: per partition, runs of at most maxPerEntry messages and maxEntryChars characters. */
  function pack(items: Queued[]): Queued[][] {
    if (maxPerEntry === 1) return items.map((q) => [q]);
    const open = new Map<number, { msgs: Queued[]; chars: number }>();
    const entries: Queued[][] = [];
    for (const q of items) {
      let e = open.get(q.partition);
      if (!e || e.msgs.length >= maxPerEntry || (e.chars > 0 && e.chars + q.data.length > maxEntryChars)) {
        e = { msgs: [], chars: 0 };
        open.set(q.partition, e);
        entries.push(e.msgs);
      }
      e.msgs.push(q);
      e.chars += q.data.length;
    }
    return entries;
  }

  function flush(): void {
    scheduled = false;
    const entries = pack(queue);
    queue = [];
    for (let from = 0; from < entries.length; from += maxBatch) {
      const batch = entries.slice(from, from + maxBatch);
      const pipe = redis.pipeline();
      for (const e of batch) pipe.call('XADD', keys[e[0]!.partition]!, '*', ...e.flatMap((q) => ['k', q.key, 'd', q.data]));
      pipe.exec().then(
        (res) => {
          let n = 0;
          batch.forEach((e, i) => {
            const [err, id] = res?.[i] ?? [new Error('pipeline aborted'), null];
            for (const q of e) {
              if (err || typeof id !== 'string') q.reject(err ?? new Error('XADD returned no id'));
              else {
                stats.appended++;
                q.resolve(id);
              }
            }
            n += e.length;
          });
          done(n);
        },
        (err: unknown) => {
          let n = 0;
          for (const e of batch) for (const q of e) q.reject(err);
          for (const e of batch) n += e.length;
          done(n);
        },
      );
    }
  }

  function done(n: number): void {
    inFlight -= n;
    if (inFlight === 0 && settleIdle) {
      settleIdle();
      settleIdle = undefined;
    }
  }

  async function maintainOnce(): Promise<void> {
    const startedAt = appendedTotal.slice();
    const positions = await Promise.all(keys.map((k) => readStreamPosition(redis, k)));
    const trim = redis.pipeline();
    let trims = 0;
    positions.forEach((pos, p) => {
      knownBacklog[p] = pos.backlog;
      appendedAtRead[p] = startedAt[p]!;
      // MINID ~: Redis removes only whole internal nodes below the id, so the
      // approximation can keep a few consumed entries longer, never drop an unconsumed one.
      if (pos.consumedBelow !== undefined && pos.consumedBelow !== '0-0') {
        trim.call('XTRIM', keys[p]!, 'MINID', '~', pos.consumedBelow);
        trims++;
      }
    });
    if (trims > 0) {
      await trim.exec();
      stats.trims += trims;
    }
  }

  function maintain(): Promise<void> {
    maintaining ??= maintainOnce().finally(() => {
      maintaining = undefined;
    });
    return maintaining;
  }

  let started = false;
  function maintainOnTimer(): void {
    if (timer || !started) return;
    timer = setInterval(() => {
      // A failed read keeps the previous estimate; the next tick tries again.
      maintain().catch(() => undefined);
    }, intervalMs);
    timer.unref();
  }

  return {
    async start() {
      for (const key of keys) for (const g of config.groups) await ensureGroup(redis, key, g);
      await maintain();
      started = true;
    },
    async stop() {
      started = false;
      if (timer) clearInterval(timer);
      timer = undefined;
      if (inFlight > 0) {
        idle = new Promise<void>((r) => {
          settleIdle = r;
        });
        if (scheduled || queue.length > 0) flush();
        await idle;
      }
      await maintaining?.catch(() => undefined);
    },
    partitionOf: (key) => fnv1a(key) % P,
    streamKey(p) {
      const k = keys[p];
      if (k === undefined) throw new RangeError(`partition ${p} is not in 0…${P - 1}`);
      return k;
    },
    append(key, payload) {
      if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_CHARS) {
        return Promise.reject(new HwError('HW_ERR_BAD_ID', `partition key must be a string of 1-${MAX_KEY_CHARS} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`));
      }
      const partition = fnv1a(key) % P;
      const backlog = knownBacklog[partition]! + appendedTotal[partition]! - appendedAtRead[partition]!;
      if (backlog >= config.maxBacklog) {
        stats.refused++;
        return Promise.reject(new HwError('HW_ERR_BACKLOG_FULL', `partition ${config.name}:${partition} holds ${backlog} unconsumed entries, limit ${config.maxBacklog}`));
      }
      if (inFlight >= maxInFlight) {
        stats.refused++;
        return Promise.reject(new HwError('HW_ERR_BACKLOG_FULL', `${inFlight} appends waiting for Redis, limit ${maxInFlight}`));
      }
      let data: string;
      try {
        data = codec.encode(payload);
      } catch (err) {
        return Promise.reject(err);
      }
      appendedTotal[partition]!++;
      inFlight++;
      maintainOnTimer();
      return new Promise<string>((resolve, reject) => {
        queue.push({ partition, key, data, resolve, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    async backlog(p) {
      return (await readStreamPosition(redis, this.streamKey(p))).backlog;
    },
    maintain,
    consume(group, consumer, handler, options) {
      return createGroupConsumer<T>(
        { redis, codec, onDeadLetter: deps.onDeadLetter, onGroupLost: deps.onGroupLost },
        { ...options, name: config.name, partitionCount: P, group, consumer },
        handler,
      );
    },
    stats: () => ({ ...stats }),
  };
}
