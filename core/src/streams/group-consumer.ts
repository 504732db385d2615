/**
 * One consumer of a consumer group over the partitions of a partitioned log. It reads its
 * own pending entries first (a restart resumes where it stopped), then new entries
 * (XREADGROUP COUNT … BLOCK …), and from time to time claims entries that another
 * consumer took and left idle (XAUTOCLAIM: the other one died). An entry is acknowledged
 * (XACK) only after the handler's promise for its batch resolves; a handler that throws
 * leaves the batch pending, and it is retried entry by entry, each at most
 * `maxDeliveries` times, then moved to the dead-letter stream `<name>:dead` and counted.
 * Handlers run one batch at a time, in stream order within a partition (in `ordered` mode,
 * one batch per partition at a time, each in its turn across the group's consumers).
 */
import type { Redis } from 'ioredis';
import { HwError } from '../errors.ts';
import { bounded } from './bounded-option.ts';
import { ensureGroup } from './ensure-group.ts';
import { parseEntry, parseReadReply, type Codec, type RawEntry, type StreamEntry } from './stream-entry.ts';

export type BatchHandler<T> = (batch: StreamEntry<T>[]) => Promise<void>;

export interface DeadLetter {
  stream: string;
  id: string;
  group: string;
  consumer: string;
  deliveries: number;
  reason: string;
}
export type DeadLetterHook = (d: DeadLetter) => void;

export interface ConsumeOptions {
  /** Partitions this consumer reads (a rules worker's share); all when absent. */
  partitions?: readonly number[];
  /** Entries per partition per read; default 100. */
  count?: number;
  /** How long a read waits for new entries, ms; default 1,000 (also bounds how long stop() waits). */
  blockMs?: number;
  /** Entries another consumer has left unacknowledged this long are claimed, ms; default 30,000. */
  claimIdleMs?: number;
  /** How often to look for such entries, ms; default claimIdleMs / 2. */
  claimIntervalMs?: number;
  /** Deliveries of one entry before it goes to the dead-letter stream; default 5. */
  maxDeliveries?: number;
  /**
   * False: an entry whose handler keeps failing is retried for as long as it fails, never
   * dead-lettered (entries that cannot be decoded still are). For entries already
   * acknowledged to someone (a gateway's PUBACK): a failure is this worker's (a full disk),
   * not the entry's, and the entry must not be set aside. Default true.
   */
  deadLetterFailures?: boolean;
  /** Wait before retrying entries whose handler threw, ms; default 1,000. */
  retryDelayMs?: number;
  /** Approximate length bound of the dead-letter stream; default 10,000. */
  deadLetterMaxLen?: number;
  /**
   * Handle each partition's entries in stream order across all consumers of the group: a
   * consumer hands a partition's entries to the handler only once every older entry of
   * that partition is acknowledged (the oldest pending entry is its own first one), and
   * takes over, in order, an older entry another consumer has left idle for claimIdleMs.
   * Partitions still go in parallel. For consumers whose output must keep the input's
   * order (ingest forwarding a sensor's readings to the rules). Default false.
   */
  ordered?: boolean;
}

export interface GroupConsumerConfig extends ConsumeOptions {
  /** The log's name: streams `<name>:<p>`, dead letters `<name>:dead`. */
  name: string;
  /** P of the log. */
  partitionCount: number;
  group: string;
  consumer: string;
}

export interface ConsumerStats {
  /** Entries handed to the handler (a retried entry counts each time). */
  delivered: number;
  acked: number;
  /** Handler calls that threw. */
  failedBatches: number;
  /** Entries taken over from idle consumers. */
  claimed: number;
  deadLettered: number;
  /** Redis commands that failed (the consumer waits and goes on). */
  redisErrors: number;
}

export interface StreamConsumer {
  start(): Promise<void>;
  /** Stops reading; a handler already running finishes and its batch is acknowledged. */
  stop(): Promise<void>;
  stats(): ConsumerStats;
}

interface Deps<T> {
  redis: Redis;
  codec: Codec<T>;
  onDeadLetter?: DeadLetterHook;
  /** The group was missing (Redis lost its data) and has been created again. */
  onGroupLost?: (group: string) => void;
}

type Parsed = ReturnType<typeof parseEntry>;
type Origin = 'new' | 'redelivered';

const ID_LIKE = /^[\w.:-]{1,100}$/;

export function createGroupConsumer<T>(deps: Deps<T>, config: GroupConsumerConfig, handler: BatchHandler<T>): StreamConsumer {
  const P = config.partitionCount;
  const own = config.partitions ?? Array.from({ length: P }, (_, p) => p);
  for (const p of own) if (!Number.isInteger(p) || p < 0 || p >= P) throw new HwError('HW_ERR_CONFIG', `partition ${p} is not in 0…${P - 1}`);
  if (own.length === 0 || new Set(own).size !== own.length) throw new HwError('HW_ERR_CONFIG', 'a consumer needs at least one partition, each listed once');
  if (!ID_LIKE.test(config.group) || !ID_LIKE.test(config.consumer)) throw new HwError('HW_ERR_CONFIG', 'group and consumer names must be 1-100 of [A-Za-z0-9_.:-]');
  const count = bounded('count', config.count ?? 100, 1, 10_000);
  const blockMs = bounded('blockMs', config.blockMs ?? 1_000, 1, 60_000);
  const claimIdleMs = bounded('claimIdleMs', config.claimIdleMs ?? 30_000, 1, 86_400_000);
  const claimIntervalMs = bounded('claimIntervalMs', config.claimIntervalMs ?? Math.max(100, Math.floor(claimIdleMs / 2)), 1, 86_400_000);
  const maxDeliveries = bounded('maxDeliveries', config.maxDeliveries ?? 5, 1, 1_000);
  const retryDelayMs = bounded('retryDelayMs', config.retryDelayMs ?? 1_000, 0, 3_600_000);
  const deadLetterMaxLen = bounded('deadLetterMaxLen', config.deadLetterMaxLen ?? 10_000, 1, 10_000_000);
  const { group, consumer } = config;
  const keys = own.map((p) => `${config.name}:${p}`);
  const partitionOfKey = new Map(own.map((p, i) => [keys[i]!, p]));
  const deadKey = `${config.name}:dead`;
  const redis = deps.redis;
  // Blocking reads hold their connection: they get one of their own.
  let reader: Redis | undefined;

  const stats: ConsumerStats = { delivered: 0, acked: 0, failedBatches: 0, claimed: 0, deadLettered: 0, redisErrors: 0 };
  let running = false;
  let loop: Promise<void> | undefined;
  let readOwnPending = true;
  let nextClaimAt = 0;
  // Entries whose handler threw, by stream key: retried one by one after retryDelayMs.
  const retry = new Map<string, Set<string>>();
  let retryAt = 0;
  let wake: (() => void) | undefined;

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wake = () => {
        clearTimeout(t);
        r();
      };
    });

  /** Deliveries so far of each entry (XPENDING's per-entry count), by id. */
  async function deliveries(key: string, ids: string[]): Promise<Map<string, number>> {
    const pipe = redis.pipeline();
    for (const id of ids) pipe.call('XPENDING', key, group, id, id, '1');
    const res = (await pipe.exec()) ?? [];
    const out = new Map<string, number>();
    res.forEach(([err, reply]) => {
      if (err) throw err;
      const row = Array.isArray(reply) ? reply[0] : undefined;
      if (Array.isArray(row) && typeof row[0] === 'string') out.set(row[0], Number(row[3]));
    });
    return out;
  }

  async function deadLetter(key: string, raw: RawEntry, n: number, reason: string): Promise<void> {
    // XADD before XACK: a crash between the two can leave a dead letter twice, never none.
    await redis
      .multi()
      .call('XADD', deadKey, 'MAXLEN', '~', String(deadLetterMaxLen), '*', 'stream', key, 'id', raw.id, 'group', group, 'consumer', consumer, 'deliveries', String(n), 'reason', reason.slice(0, 300), ...raw.items.flatMap((m) => ['k', m.key, 'd', m.data]))
      .call('XACK', key, group, raw.id)
      .exec();
    stats.deadLettered++;
    retry.get(key)?.delete(raw.id);
    deps.onDeadLetter?.({ stream: key, id: raw.id, group, consumer, deliveries: n, reason });
  }

  /** Poll interval while waiting for a partition's turn: short first, then backing off. */
  const TURN_POLL_MS = [1, 2, 5, 10, 20, 50];

  /**
   * Ordered mode: the longest prefix of `list` (this consumer's ids of one partition, in
   * stream order) whose turn has come: the partition's oldest pending entries are exactly
   * those, and still this consumer's. While it waits, it keeps its entries from looking
   * idle (XCLAIM JUSTID to itself, which resets their idle time), so no other consumer
   * takes them over; an older entry another consumer has left idle claimIdleMs is taken
   * over and handled here, first. Resolves [] when this consumer stops, when its entries
   * were taken over after all, or when an older entry of its own is waiting for a retry
   * (its own pending entries are then read again, in order: readOwnPending).
   */
  async function awaitTurn(key: string, list: readonly string[]): Promise<string[]> {
    let refreshedAt = Date.now();
    for (let round = 0; running; round++) {
      const rows = await redis.call('XPENDING', key, group, '-', '+', String(list.length));
      const pending = Array.isArray(rows) ? rows.filter(Array.isArray) as unknown[][] : [];
      let n = 0;
      while (n < pending.length && pending[n]![0] === list[n] && pending[n]![1] === consumer) n++;
      if (n > 0) return list.slice(0, n);
      const head = pending[0];
      if (!head) return []; // nothing pending: ours were taken over and acknowledged elsewhere
      if (head[1] === consumer) {
        // An older entry of ours (a retry): read our pending entries again, in order, after it.
        readOwnPending = true;
        return [];
      }
      if (Number(head[2]) >= claimIdleMs) {
        const claimed = await redis.call('XCLAIM', key, group, consumer, String(claimIdleMs), String(head[0]));
        const got = Array.isArray(claimed) ? claimed.map(parseEntry) : [];
        stats.claimed += got.length;
        if (got.length > 0) await handle(new Map([[key, got]]), 'redelivered');
        continue;
      }
      if (Date.now() - refreshedAt >= claimIdleMs / 3) {
        const mine = await stillOurs(key, list);
        if (mine.length === 0) return [];
        await redis.call('XCLAIM', key, group, consumer, '0', ...mine, 'JUSTID');
        refreshedAt = Date.now();
      }
      await sleep(TURN_POLL_MS[Math.min(round, TURN_POLL_MS.length - 1)]!);
    }
    return [];
  }

  /** Those of `ids` (one partition) still pending to this consumer. */
  async function stillOurs(key: string, ids: readonly string[]): Promise<string[]> {
    const rows = await redis.call('XPENDING', key, group, ids[0]!, ids[ids.length - 1]!, String(ids.length * 2 + 10), consumer);
    const mine = new Set(Array.isArray(rows) ? rows.filter(Array.isArray).map((r) => String((r as unknown[])[0])) : []);
    return ids.filter((id) => mine.has(id));
  }

  /** Ordered mode: one partition's entries of a batch, each run of them when its turn has come. */
  async function handleInTurn(key: string, list: readonly string[], batch: StreamEntry<T>[]): Promise<void> {
    const partition = partitionOfKey.get(key);
    let rest = list;
    while (rest.length > 0 && running) {
      const turn = await awaitTurn(key, rest);
      if (turn.length === 0) return; // left pending: delivered again, in order
      const ids = new Set(turn);
      if (!(await run1(batch.filter((e) => e.partition === partition && ids.has(e.id)), new Map([[key, turn]])))) {
        // The rest waits behind the failed entries: read our pending entries again, in order, after their retry.
        readOwnPending = true;
        return;
      }
      rest = rest.slice(turn.length);
    }
  }

  async function ack(byKey: Map<string, string[]>): Promise<void> {
    const pipe = redis.pipeline();
    let n = 0;
    for (const [key, ids] of byKey) {
      if (ids.length === 0) continue;
      pipe.call('XACK', key, group, ...ids);
      n += ids.length;
    }
    if (n === 0) return;
    const res = (await pipe.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    stats.acked += n;
    for (const [key, ids] of byKey) for (const id of ids) retry.get(key)?.delete(id);
  }

  /**
   * Decodes, dead-letters what cannot be decoded or was delivered too often, hands the
   * rest to the handler and acknowledges it; a throw leaves it pending for a retry.
   */
  /**
   * Ordered mode: the partitions whose entries are being handled in the background (new
   * entries, handleInTurn), so a partition that waits its turn (behind a dead consumer's
   * entries) holds up neither the others nor the read loop; the loop does not read a busy
   * partition again until its run ends, so at most `count` entries per partition wait.
   */
  const busy = new Map<string, Promise<void>>();
  const freeKeys = () => keys.filter((k) => !busy.has(k));

  async function handle(entries: Map<string, Parsed[]>, origin: Origin, background = false): Promise<void> {
    const batch: StreamEntry<T>[] = [];
    const ids = new Map<string, string[]>();
    const gone = new Map<string, string[]>();
    for (const [key, list] of entries) {
      const partition = partitionOfKey.get(key);
      if (partition === undefined) continue;
      const present: RawEntry[] = [];
      for (const e of list) {
        if (!e) continue;
        // Deleted while pending (XDEL by an operator): nothing left to process.
        if ('missing' in e) (gone.get(key) ?? gone.set(key, []).get(key)!).push(e.id);
        else present.push(e);
      }
      if (present.length === 0) continue;
      const counts = origin === 'redelivered' ? await deliveries(key, present.map((e) => e.id)) : undefined;
      for (const raw of present) {
        const n = counts?.get(raw.id) ?? 1;
        if (n > maxDeliveries && config.deadLetterFailures !== false) {
          await deadLetter(key, raw, n, `delivered ${n} times, limit ${maxDeliveries}`);
          continue;
        }
        let decoded: StreamEntry<T>[];
        try {
          decoded = raw.items.map((m) => ({ id: raw.id, partition, key: m.key, payload: deps.codec.decode(m.data) }));
        } catch (err) {
          await deadLetter(key, raw, n, `undecodable: ${(err as Error).message}`);
          continue;
        }
        batch.push(...decoded);
        (ids.get(key) ?? ids.set(key, []).get(key)!).push(raw.id);
      }
    }
    if (gone.size > 0) await ack(gone);
    if (batch.length === 0) return;
    if (config.ordered && background) {
      for (const [key, list] of ids) {
        const run = handleInTurn(key, list, batch)
          .catch(() => {
            // Redis failed mid-run: the entries stay pending; read them again, in order.
            stats.redisErrors++;
            readOwnPending = true;
          })
          .finally(() => {
            busy.delete(key);
            wake?.();
          });
        busy.set(key, run);
      }
      return;
    }
    if (config.ordered) {
      // Each partition in its turn, the partitions in parallel; every one settles before a failure is passed on.
      const settled = await Promise.allSettled([...ids].map(([key, list]) => handleInTurn(key, list, batch)));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      return;
    }
    await run1(batch, ids);
  }

  /** The handler on one batch, then XACK (true); a throw leaves it pending for a retry (false). */
  async function run1(batch: StreamEntry<T>[], ids: Map<string, string[]>): Promise<boolean> {
    stats.delivered += batch.length;
    try {
      await handler(batch);
    } catch {
      stats.failedBatches++;
      for (const [key, list] of ids) {
        const set = retry.get(key) ?? retry.set(key, new Set()).get(key)!;
        for (const id of list) set.add(id);
      }
      retryAt = Date.now() + retryDelayMs;
      return false;
    }
    await ack(ids);
    return true;
  }

  /** This consumer's own pending entries, from the start (a restart resumes here). */
  async function drainOwnPending(): Promise<void> {
    for (let i = 0; i < keys.length; i++) {
      // A partition being handled in the background: read it again once that run ends.
      if (busy.has(keys[i]!)) {
        readOwnPending = true;
        continue;
      }
      let after = '0-0';
      // Bounded: each round moves `after` forward; the PEL is finite.
      while (running) {
        const reply = await redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count), 'STREAMS', keys[i]!, after);
        const entries = parseReadReply(reply);
        const list = entries.get(keys[i]!) ?? [];
        if (list.length === 0) break;
        await handle(entries, 'redelivered');
        after = list[list.length - 1]!.id;
      }
    }
  }

  /** Entries other consumers left idle longer than claimIdleMs (XAUTOCLAIM). */
  async function claimIdle(): Promise<void> {
    for (const key of freeKeys()) {
      let cursor = '0-0';
      // At most 10 pages per partition per round, so claiming cannot starve new entries.
      for (let page = 0; page < 10 && running; page++) {
        const reply = await redis.call('XAUTOCLAIM', key, group, consumer, String(claimIdleMs), cursor, 'COUNT', String(count));
        if (!Array.isArray(reply)) break;
        const list = Array.isArray(reply[1]) ? reply[1].map(parseEntry) : [];
        stats.claimed += list.length;
        if (list.length > 0) await handle(new Map([[key, list]]), 'redelivered');
        cursor = typeof reply[0] === 'string' ? reply[0] : '0-0';
        if (cursor === '0-0') break;
      }
    }
  }

  /** Entries whose handler threw, one at a time (XCLAIM to itself counts a delivery). */
  async function retryFailed(): Promise<void> {
    for (const [key, set] of retry) {
      if (busy.has(key)) continue; // after the run in progress on that partition
      for (const id of [...set]) {
        if (!running) return;
        const reply = await redis.call('XCLAIM', key, group, consumer, '0', id);
        const list = Array.isArray(reply) ? reply.map(parseEntry) : [];
        // Not returned: no longer pending (acknowledged or claimed and finished elsewhere).
        if (list.length === 0) set.delete(id);
        else await handle(new Map([[key, list]]), 'redelivered');
      }
      if (set.size === 0) retry.delete(key);
    }
  }

  async function readNew(): Promise<void> {
    if (!reader) {
      reader = redis.duplicate();
      // Connection errors surface as failed commands below (counted, retried): not as events.
      reader.on('error', () => undefined);
    }
    const free = config.ordered ? freeKeys() : keys;
    if (free.length === 0) {
      // Every partition is being handled: wait for one to end.
      await Promise.race([...busy.values(), sleep(blockMs)]);
      return;
    }
    if (busy.size > 0) {
      // Some partitions are busy: read the others without blocking, and if they hold
      // nothing wait for a busy run to end (read again at once) or 20 ms, whichever is first.
      const reply = await reader.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count), 'STREAMS', ...free, ...free.map(() => '>'));
      if (reply !== null) await handle(parseReadReply(reply), 'new', true);
      else await Promise.race([...busy.values(), new Promise((r) => setTimeout(r, 20))]);
      return;
    }
    const reply = await reader.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(count), 'BLOCK', String(blockMs), 'STREAMS', ...free, ...free.map(() => '>'));
    if (reply !== null) await handle(parseReadReply(reply), 'new', Boolean(config.ordered));
  }

  async function run(): Promise<void> {
    while (running) {
      try {
        if (readOwnPending) {
          // Cleared first: the drain sets it again for partitions it has to leave for later.
          readOwnPending = false;
          await drainOwnPending();
        }
        if (Date.now() >= nextClaimAt) {
          await claimIdle();
          nextClaimAt = Date.now() + claimIntervalMs;
        }
        if (retry.size > 0) {
          const wait = retryAt - Date.now();
          if (wait > 0) await sleep(Math.min(wait, blockMs));
          if (running && Date.now() >= retryAt) await retryFailed();
          continue;
        }
        await readNew();
      } catch (err) {
        if (!running) break;
        // Redis unreachable or restarting: wait, then re-read our own pending entries (a
        // reply lost with the connection leaves entries delivered to us but never seen).
        stats.redisErrors++;
        readOwnPending = true;
        // Redis lost its data (no AOF, FLUSHALL, a failover): the streams and groups are gone
        // and appends recreate the streams without groups. Create the group again, from the
        // start, so what has been appended since is consumed rather than waiting for ever.
        if (err instanceof Error && err.message.includes('NOGROUP')) {
          deps.onGroupLost?.(group);
          for (const key of keys) await ensureGroup(redis, key, group).catch(() => undefined);
        }
        await sleep(500);
      }
    }
  }

  return {
    async start() {
      if (running) return;
      for (const key of keys) await ensureGroup(redis, key, group);
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake?.();
      // Interrupts a blocking read; a handler in progress still finishes and acknowledges.
      reader?.disconnect();
      await loop;
      // Background runs end too: a waiting one gives up (its entries stay pending), a handler in progress finishes.
      await Promise.allSettled([...busy.values()]);
      reader = undefined;
    },
    stats: () => ({ ...stats }),
  };
}
