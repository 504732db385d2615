/**
 * Every entry of a partitioned log, read without a consumer group (XREAD): for a unit of
 * which every replica needs every event (the API's live readings), and which must not
 * hold back trimming. It starts at the newest entry of each partition: what came before
 * is history, served from the store. A follower that falls so far behind that the log
 * trimmed entries it had not read skips them (a live view, not a record).
 */
import type { Redis } from 'ioredis';
import { startReadLoop } from './read-loop.ts';
import { parseEntry, parseReadReply, type Codec, type StreamEntry } from './stream-entry.ts';

export interface LogFollower {
  stop(): Promise<void>;
}

export interface FollowOptions {
  /** Entries per partition per read; default 500. */
  count?: number;
  /** How long a read waits, ms; default 1,000 (bounds how long stop() waits). */
  blockMs?: number;
  onUndecodable?: (stream: string, id: string) => void;
  onError?: (err: unknown) => void;
}

export function followLog<T>(redis: Redis, keys: readonly string[], codec: Codec<T>, onEntries: (entries: StreamEntry<T>[]) => void | Promise<void>, options: FollowOptions = {}): LogFollower {
  const count = String(options.count ?? 500);
  const blockMs = String(options.blockMs ?? 1_000);
  let cursors: string[] | undefined;

  const newest = async (key: string): Promise<string> => {
    const reply = await redis.call('XREVRANGE', key, '+', '-', 'COUNT', '1');
    const e = Array.isArray(reply) ? parseEntry(reply[0]) : undefined;
    return e?.id ?? '0-0';
  };

  return startReadLoop(redis, async (reader) => {
    // '$' resolved once per partition: re-sent on each read it would skip what arrived between reads.
    cursors ??= await Promise.all(keys.map(newest));
    const reply = await reader.call('XREAD', 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...keys, ...cursors);
    const byKey = parseReadReply(reply);
    const out: StreamEntry<T>[] = [];
    keys.forEach((key, p) => {
      const list = byKey.get(key);
      if (!list || list.length === 0) return;
      for (const e of list) {
        if (!e || 'missing' in e) continue;
        for (const item of e.items) {
          try {
            out.push({ id: e.id, partition: p, key: item.key, payload: codec.decode(item.data) });
          } catch {
            options.onUndecodable?.(key, e.id);
          }
        }
      }
      cursors![p] = list[list.length - 1]!.id;
    });
    if (out.length === 0) return;
    try {
      await onEntries(out);
    } catch (err) {
      options.onError?.(err);
    }
  }, options.onError);
}
