/**
 * One stream read by every replica without a consumer group (fan-out): the alert events.
 * An entry's Redis id is the event id a client resumes with (`since`), the same on every
 * API replica and across restarts. Readers follow with XREAD BLOCK from an id; a client
 * that comes back gets a bounded replay (XRANGE after its id), and is told when entries
 * after its id have been trimmed away (or its id is from before a Redis data loss) so it
 * can load a snapshot instead.
 */
import type { Redis } from 'ioredis';
import { startReadLoop } from './read-loop.ts';
import { HwError } from '../errors.ts';
import { compareIds, jsonCodec, pairs, parseEntry, parseEntryId, parseReadReply, type Codec, type StreamEntry } from './stream-entry.ts';

export interface EventStreamConfig {
  key: string;
  /** Entries kept (MAXLEN ~ on every append): the replay window; default 100,000. */
  retain?: number;
  /** Largest replay one call returns; default 1,000. */
  maxReplay?: number;
  /** Entries per read when following; default 500. */
  count?: number;
  /** How long a follow read waits, ms; default 1,000 (bounds how long stop() waits). */
  blockMs?: number;
}

export interface Replay<T> {
  events: StreamEntry<T>[];
  /** Entries after `since` were trimmed, or `since` is newer than anything in the stream: load a snapshot. */
  gap: boolean;
  /** More entries follow the last one returned: ask again from its id. */
  more: boolean;
  /** Entries that could not be decoded (skipped, counted here; never silently). */
  undecodable: string[];
}

export interface Follower {
  stop(): Promise<void>;
}

export interface EventStream<T> {
  append(payload: T): Promise<string>;
  /** Events after `since` (exclusive), at most `limit` (≤ maxReplay). `since` is validated: HW_ERR_BAD_EVENT_ID. */
  replay(since: unknown, limit?: number): Promise<Replay<T>>;
  /** The newest event id, or '0-0' for an empty stream. */
  lastId(): Promise<string>;
  /**
   * Calls `onEvents` with every event after `since` ('$' for only new ones), in order, on
   * a connection of its own; the next read waits for the handler's promise. A handler
   * that throws is reported to `onError` and the reader goes on with the next events.
   */
  follow(since: string, onEvents: (events: StreamEntry<T>[]) => void | Promise<void>, hooks?: { onUndecodable?: (id: string) => void; onError?: (err: unknown) => void }): Follower;
}

export function createEventStream<T>(deps: { redis: Redis; codec?: Codec<T> }, config: EventStreamConfig): EventStream<T> {
  const { redis } = deps;
  const codec = deps.codec ?? jsonCodec<T>();
  const key = config.key;
  const retain = config.retain ?? 100_000;
  const maxReplay = config.maxReplay ?? 1_000;
  const count = config.count ?? 500;
  const blockMs = config.blockMs ?? 1_000;

  function decodeAll(list: ReturnType<typeof parseEntry>[], undecodable: string[]): StreamEntry<T>[] {
    const out: StreamEntry<T>[] = [];
    for (const e of list) {
      if (!e || 'missing' in e) continue;
      const item = e.items[0]!; // the event stream writes one event per entry
      try {
        out.push({ id: e.id, partition: 0, key: item.key, payload: codec.decode(item.data) });
      } catch {
        undecodable.push(e.id);
      }
    }
    return out;
  }

  async function lastId(): Promise<string> {
    const reply = await redis.call('XREVRANGE', key, '+', '-', 'COUNT', '1');
    const e = Array.isArray(reply) ? parseEntry(reply[0]) : undefined;
    return e?.id ?? '0-0';
  }

  return {
    async append(payload) {
      const id = await redis.call('XADD', key, 'MAXLEN', '~', String(retain), '*', 'k', '', 'd', codec.encode(payload));
      if (typeof id !== 'string') throw new Error('XADD returned no id');
      return id;
    },
    async replay(sinceRaw, limit = maxReplay) {
      const since = parseEntryId(sinceRaw);
      if (!Number.isInteger(limit) || limit < 1 || limit > maxReplay) throw new HwError('HW_ERR_BAD_RANGE', `replay limit must be 1…${maxReplay}, got ${limit}`);
      const res = await redis
        .pipeline()
        .call('XRANGE', key, `(${since}`, '+', 'COUNT', String(limit + 1))
        .call('XINFO', 'STREAM', key)
        .exec();
      const [rangeErr, range] = res?.[0] ?? [new Error('pipeline aborted'), null];
      if (rangeErr) throw rangeErr;
      const [infoErr, infoReply] = res?.[1] ?? [null, null];
      const missingStream = infoErr instanceof Error && /no such key/i.test(infoErr.message);
      if (infoErr && !missingStream) throw infoErr;
      const info = pairs(infoReply);
      const list = (Array.isArray(range) ? range : []).map(parseEntry);
      const more = list.length > limit;
      const undecodable: string[] = [];
      const events = decodeAll(more ? list.slice(0, limit) : list, undecodable);
      const last = typeof info['last-generated-id'] === 'string' ? info['last-generated-id'] : '0-0';
      const maxDeleted = typeof info['max-deleted-entry-id'] === 'string' ? info['max-deleted-entry-id'] : '0-0';
      const first = Array.isArray(info['first-entry']) ? parseEntry(info['first-entry'])?.id : undefined;
      const removedSome = Number(info['entries-added'] ?? 0) > Number(info.length ?? 0);
      // Trimming removes from the head, so with `since` at or after the first entry nothing
      // after it is gone; before it, entries after `since` may have been trimmed (when any
      // were): a client at exactly the last trimmed id reloads a snapshot it did not need,
      // none misses an event. XDEL anywhere is caught by max-deleted-entry-id (Redis ≥ 7).
      const trimmedAfterSince = (first !== undefined && compareIds(since, first) < 0 && removedSome) || compareIds(maxDeleted, since) > 0;
      const gap = compareIds(since, last) > 0 || trimmedAfterSince;
      return { events, gap, more, undecodable };
    },
    lastId,
    follow(sinceRaw, onEvents, { onUndecodable, onError } = {}) {
      // '$' is resolved to an id once: re-sent on each read it would skip what arrived between reads.
      let cursor = sinceRaw === '$' ? undefined : parseEntryId(sinceRaw);
      return startReadLoop(redis, async (reader) => {
        cursor ??= await lastId();
        const reply = await reader.call('XREAD', 'COUNT', String(count), 'BLOCK', String(blockMs), 'STREAMS', key, cursor);
        const list = parseReadReply(reply).get(key) ?? [];
        if (list.length === 0) return;
        cursor = list[list.length - 1]!.id;
        const undecodable: string[] = [];
        const events = decodeAll(list, undecodable);
        for (const id of undecodable) onUndecodable?.(id);
        if (events.length === 0) return;
        try {
          await onEvents(events);
        } catch (err) {
          // The reader goes on: one replica's failing push must not stall its stream.
          onError?.(err);
        }
      });
    },
  };
}
