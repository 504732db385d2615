import { closeSync, fdatasyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { HwError } from '../../core/src/errors.ts';
import { join } from 'node:path';
import type { Logger } from '../../core/src/logger.ts';
import type { Reading } from '../../core/src/types.ts';

/**
 * The ingest spool: an append-only write-ahead log of accepted readings, in segment
 * files `seg-<seq>.ndjson` under `<dataDir>/spool`. One line per accepted MQTT message.
 *
 * Durability policy (documented in README "Ingest durability"):
 * - A message's readings are appended with a synchronous write(2) *before* its QoS 1
 *   PUBACK is released, so a crash or `kill -9` of the process loses nothing that was
 *   acknowledged: the bytes are in the kernel's page cache.
 * - fdatasync(2) runs every `fsyncIntervalMs` (default 200 ms) and when a segment is
 *   closed, so an OS crash or power loss can lose at most that window.
 * - A segment is deleted once every reading in it is confirmed stored.
 */
export interface SpoolConfig {
  dir: string;
  /** Roll the open segment after this many readings. */
  segmentMaxReadings: number;
  /** Roll the open segment after this long, ms (so stored segments are deleted promptly). */
  segmentMaxMs: number;
  fsyncIntervalMs: number;
  /** Above this many bytes on disk the spool is full and ingest applies backpressure. */
  maxBytes: number;
}

export interface Segment {
  seq: number;
  path: string;
  fd: number | undefined;
  readings: number;
  bytes: number;
  openedAt: number;
  /** Readings of this segment confirmed stored via the in-memory path. */
  shipped: number;
  /** Every reading of this segment also went through memory (so file replay is not needed). */
  inMemory: boolean;
}

type Tuple = [enterpriseId: string, gatewayId: string, sensorId: string, agent: string, ts: number, value: number, unit: string, valueStd: number];

/** One spool line: a message's readings (or a group's: accept-group.ts joins their lines). */
export const encodeLine = (rs: readonly Reading[]): string => JSON.stringify(rs.map((r): Tuple => [r.enterpriseId, r.gatewayId, r.sensorId, r.agent, r.ts, r.value, r.unit, r.valueStd])) + '\n';

const decodeLine = (line: string): Reading[] =>
  (JSON.parse(line) as Tuple[]).map(([enterpriseId, gatewayId, sensorId, agent, ts, value, unit, valueStd]) => ({ enterpriseId, gatewayId, sensorId, agent, ts, value, unit, valueStd }));

/**
 * One process per spool directory: two ingest workers appending to and deleting each
 * other's segments would lose readings. The lock file holds the owner's pid; a lock whose
 * process is gone (or is this one, after a restart in a fresh pid namespace) is taken over.
 */
function lockSpool(dir: string): () => void {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(readFileSync(path, 'utf8').trim());
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) {
        try {
          process.kill(pid, 0);
          alive = true;
        } catch (e) {
          alive = (e as NodeJS.ErrnoException).code === 'EPERM';
        }
      }
      if (alive) throw new HwError('HW_ERR_CONFIG', `the spool ${dir} is in use by process ${pid}: give each ingest worker its own HW_DATA_DIR`);
      rmSync(path, { force: true });
    }
  }
  throw new HwError('HW_ERR_CONFIG', `could not lock the spool ${dir}`);
}

export function createSpool(config: SpoolConfig, logger: Logger, now: () => number = Date.now) {
  const log = logger.child({ module: 'spool' });
  mkdirSync(config.dir, { recursive: true });
  const unlock = lockSpool(config.dir);
  const segments: Segment[] = [];
  let totalBytes = 0;
  let dirty = false;
  let nextSeq = 1;

  // Segments left by an earlier run are replayed from their files, oldest first.
  for (const name of readdirSync(config.dir).filter((n) => /^seg-\d+\.ndjson$/.test(n)).sort()) {
    const seq = Number(name.slice(4, -7));
    const path = join(config.dir, name);
    const bytes = statSync(path).size;
    segments.push({ seq, path, fd: undefined, readings: -1, bytes, openedAt: 0, shipped: 0, inMemory: false });
    totalBytes += bytes;
    nextSeq = Math.max(nextSeq, seq + 1);
  }
  if (segments.length) log.warn({ segments: segments.length, bytes: totalBytes }, 'spool holds readings from an earlier run; replaying');

  const open = (inMemory: boolean): Segment => {
    const seq = nextSeq++;
    const path = join(config.dir, `seg-${String(seq).padStart(12, '0')}.ndjson`);
    const s: Segment = { seq, path, fd: openSync(path, 'a'), readings: 0, bytes: 0, openedAt: now(), shipped: 0, inMemory };
    segments.push(s);
    return s;
  };

  const close = (s: Segment) => {
    if (s.fd === undefined) return;
    fdatasyncSync(s.fd);
    closeSync(s.fd);
    s.fd = undefined;
  };

  const current = (): Segment | undefined => {
    const last = segments.at(-1);
    return last?.fd !== undefined ? last : undefined;
  };

  const fsyncTimer = setInterval(() => {
    const c = current();
    if (dirty && c?.fd !== undefined) {
      fdatasyncSync(c.fd);
      dirty = false;
    }
  }, config.fsyncIntervalMs);
  fsyncTimer.unref();

  return {
    /** At its size limit, or would be with `extraBytes` more (readings waiting to be appended). */
    full: (extraBytes = 0) => totalBytes + extraBytes >= config.maxBytes,
    bytes: () => totalBytes,
    segments: () => segments as readonly Segment[],

    /** Append readings (`lines`: their encodeLine text, when already made); returns the segment they went to. */
    append(readings: readonly Reading[], inMemory: boolean, lines = encodeLine(readings)): Segment {
      let s = current();
      if (!s || s.readings >= config.segmentMaxReadings || now() - s.openedAt >= config.segmentMaxMs) {
        if (s) close(s);
        s = open(inMemory);
      }
      if (!inMemory) s.inMemory = false;
      const bytes = writeSync(s.fd!, lines);
      const expected = Buffer.byteLength(lines);
      if (bytes !== expected) {
        // A short write (the disk filled up mid-write): cut the torn line off, so the next
        // append does not glue onto it, and refuse the append (no acknowledgement).
        ftruncateSync(s.fd!, s.bytes);
        throw new Error(`spool write of ${expected} bytes wrote ${bytes}`);
      }
      s.readings += readings.length;
      s.bytes += bytes;
      totalBytes += bytes;
      dirty = true;
      return s;
    },

    /** The in-memory path stored `count` readings of segment `seq`. */
    shipped(seq: number, count: number) {
      const s = segments.find((x) => x.seq === seq);
      if (s) s.shipped += count;
    },

    /** Oldest segment whose readings must be replayed from its file (closing it if open). */
    nextToReplay(): Segment | undefined {
      const s = segments.find((x) => !x.inMemory);
      if (s && s.fd !== undefined) close(s);
      return s;
    },

    read(s: Segment): Reading[] {
      const out: Reading[] = [];
      const text = readFileSync(s.path, 'utf8');
      let start = 0;
      for (let i = text.indexOf('\n'); i !== -1; start = i + 1, i = text.indexOf('\n', start)) {
        try {
          for (const r of decodeLine(text.slice(start, i))) out.push(r);
        } catch (err) {
          log.error({ segment: s.path, offset: start, err: (err as Error).message }, 'unreadable spool line skipped');
        }
      }
      // A torn last line (crash mid-write) has no newline: it was never acknowledged.
      return out;
    },

    /** Delete segments that are fully stored: replayed ones explicitly, live ones when shipped. */
    release(s?: Segment) {
      for (let i = segments.length - 1; i >= 0; i--) {
        const x = segments[i]!;
        const done = x === s || (x.inMemory && x.fd === undefined && x.shipped >= x.readings);
        if (!done) continue;
        if (x.fd !== undefined) close(x);
        unlinkSync(x.path);
        totalBytes -= x.bytes;
        segments.splice(i, 1);
      }
    },

    /** Close the open segment once it is old enough that its readings are likely stored. */
    rollIfStale() {
      const c = current();
      if (c && c.readings > 0 && now() - c.openedAt >= config.segmentMaxMs) close(c);
    },

    close() {
      clearInterval(fsyncTimer);
      const c = current();
      if (c) close(c);
      unlock();
    },
  };
}

export type Spool = ReturnType<typeof createSpool>;
