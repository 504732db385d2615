/**
 * The newest reading time a rules worker has evaluated, per sensor, in one Redis hash.
 * A worker writes it after evaluating a batch and before acknowledging the batch's stream
 * entries, so at restart every reading at or before a sensor's watermark was evaluated
 * (its window is rebuilt from the store without evaluation) and every reading after it is
 * still in the stream, to be delivered and evaluated live: a restart neither misses an
 * exceedance that waited in the stream nor evaluates one twice. Each sensor belongs to one
 * worker (its partition's owner), so that worker's local maximum is the truth.
 */
import type { Redis } from 'ioredis';

/** Fields per HSET (one pipeline round trip carries all of a turn's). */
const FIELDS_PER_COMMAND = 1000;

export interface Watermarks {
  /** Records the readings' times; resolves once Redis has them (every record of this turn in one round trip). */
  record(readings: readonly { sensorId: string; ts: number }[]): Promise<void>;
  /** Every sensor's watermark, read once at start. */
  load(): Promise<Map<string, number>>;
}

export function createWatermarks(redis: Redis, key: string): Watermarks {
  const newest = new Map<string, number>();
  let dirty = new Set<string>();
  let pending: Promise<void> | undefined;

  const write = async () => {
    pending = undefined;
    const fields = [...dirty];
    dirty = new Set();
    const pipe = redis.pipeline();
    for (let i = 0; i < fields.length; i += FIELDS_PER_COMMAND) {
      pipe.hset(key, ...fields.slice(i, i + FIELDS_PER_COMMAND).flatMap((s) => [s, String(newest.get(s))]));
    }
    const res = (await pipe.exec()) ?? [];
    for (const [err] of res) {
      if (!err) continue;
      // Not written: mark them again, so the next record retries; the caller's batch is not acknowledged.
      for (const s of fields) dirty.add(s);
      throw err;
    }
  };

  return {
    record(readings) {
      for (const r of readings) {
        if (r.ts > (newest.get(r.sensorId) ?? -Infinity)) {
          newest.set(r.sensorId, r.ts);
          dirty.add(r.sensorId);
        }
      }
      if (dirty.size === 0) return pending ?? Promise.resolve();
      pending ??= new Promise<void>((resolve) => setImmediate(resolve)).then(write);
      return pending;
    },
    async load() {
      const all = await redis.hgetall(key);
      const out = new Map<string, number>();
      for (const [s, v] of Object.entries(all)) {
        const ts = Number(v);
        if (Number.isFinite(ts)) {
          out.set(s, ts);
          newest.set(s, ts);
        }
      }
      return out;
    },
  };
}
