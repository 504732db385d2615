import type { Catalogue } from '../../core/src/agents.ts';
import type { MessageBus } from '../../core/src/bus.ts';
import type { Rejection } from '../../core/src/errors.ts';
import { reject } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import { parseGatewayTopic, topics } from '../../core/src/topics.ts';
import type { Reading } from '../../core/src/types.ts';
import { decodePayload } from './decode.ts';
import { isRejection, validateReading } from './validate.ts';
import { createSpool, type SpoolConfig } from './spool.ts';
import { errMessage, type ErrMessage } from '../../core/src/err-message.ts';

export type { ErrMessage };

export interface IngestConfig {
  batchMaxReadings: number;
  flushIntervalMs: number;
  maxReadingsPerMessage: number;
  maxPayloadBytes: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
  /** Readings held in memory for the fast path before ingest falls back to the spool files. */
  memoryMaxReadings: number;
  /** Store writes in flight at once. */
  writeConcurrency: number;
  /**
   * Flow control: while the store answers but is this many readings behind, new messages
   * wait unacknowledged (QoS 1 flow control) so that lag stays bounded. During an outage
   * the spool absorbs instead. Default 50,000.
   */
  ackMaxPendingReadings?: number;
  spool: SpoolConfig;
}

export interface IngestDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  bus: MessageBus;
  logger: Logger;
  metrics: Metrics;
  /** Accepted readings, as soon as they are in the spool (the rules engine listens here). */
  onAccepted?: (readings: Reading[]) => void;
  /** Refused readings (the rules engine counts out-of-range ones as a sensor fault). */
  onRejected?: (rejections: Rejection[], ts: number, enterpriseId: string) => void;
  now?: () => number;
}

export interface HandleResult {
  accepted: number;
  rejected: Rejection[];
  /** Settles when the accepted readings are in the spool (later than the call only under backpressure). */
  spooled: Promise<void> | undefined;
}

export interface IngestWorker {
  /**
   * Start shipping. With `subscribe` (default) the worker subscribes to every gateway's
   * `up` topic on the bus; the all-in-one instead calls `handle` from the broker's
   * beforeAck hook so that the PUBACK follows the spool append.
   */
  start(opts?: { subscribe?: boolean }): Promise<void>;
  /**
   * Handle one MQTT message (exposed for tests). Never throws: an exception in decoding or
   * validation becomes a coded rejection (HW_ERR_INGEST_INTERNAL) of the reading, or of the
   * whole message, on the gateway's err topic, and is logged and counted.
   */
  handle(topic: string, payload: Buffer): HandleResult;
  /**
   * The broker-side hook (the all-in-one's beforeAck, and the bus subscription): settles
   * when the PUBACK may go. Should handle() ever throw regardless, the promise rejects, so
   * the message is not acknowledged as if it had been taken.
   */
  receive(topic: string, payload: Buffer): Promise<void> | undefined;
  /** Store everything accepted so far; resolves when it is stored (or rejects if the store is down). */
  flush(): Promise<void>;
  /** Graceful stop: ships what it can within `timeoutMs` (default 10 s); the spool keeps the rest. */
  stop(timeoutMs?: number): Promise<void>;
  pending(): number;
  spoolBytes(): number;
}

/** Remembers the last timestamps per sensor, to refuse duplicates (bounded memory). */
class RecentTimestamps {
  /**
   * Per sensor: the last `perSensor` timestamps in a ring, and the newest ever seen.
   * Readings mostly arrive in order, so a timestamp above the newest is new without a
   * lookup; only an older one is searched for in the ring.
   */
  private readonly bySensor = new Map<string, { ring: Float64Array; next: number; newest: number }>();
  constructor(private readonly perSensor = 256) {}
  seen(sensorId: string, ts: number): boolean {
    let r = this.bySensor.get(sensorId);
    if (!r) this.bySensor.set(sensorId, (r = { ring: new Float64Array(this.perSensor).fill(NaN), next: 0, newest: -Infinity }));
    if (ts <= r.newest && r.ring.includes(ts)) return true;
    if (ts > r.newest) r.newest = ts;
    r.ring[r.next] = ts;
    r.next = (r.next + 1) % this.perSensor;
    return false;
  }
}

interface MemEntry {
  seq: number;
  readings: Reading[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * decode → validate → normalise → spool → batch → write.
 *
 * Every accepted message is appended to the spool (a write-ahead log) before its PUBACK
 * is released. While the store keeps up, readings are shipped from memory and spool
 * segments are deleted as they are confirmed. When the store is down or slow, memory
 * fills to `memoryMaxReadings`, ingest goes "behind" and ships from the spool files, in
 * order, until it has caught up. When the spool itself is full, PUBACKs are withheld
 * (backpressure) until space frees: nothing accepted is ever dropped.
 */
export function createIngestWorker(deps: IngestDeps, config: IngestConfig): IngestWorker {
  const log = deps.logger.child({ module: 'ingest' });
  const now = deps.now ?? Date.now;
  const m = deps.metrics;
  const recent = new RecentTimestamps();
  const spool = createSpool(config.spool, deps.logger, now);
  const mem: MemEntry[] = [];
  let memReadings = 0;
  let behind = spool.segments().length > 0;
  /**
   * Readings in spool files that only a file replay will store. Kept as a count because
   * the hot path asks for it per message; recounted from the segments after each replay.
   * Segments left by an earlier run count once read: their size in readings is not known
   * before (readings -1).
   */
  const countBacklog = () => spool.segments().reduce((n, seg) => n + (seg.inMemory ? 0 : Math.max(0, seg.readings)), 0);
  let spoolBacklog = countBacklog();
  let timer: NodeJS.Timeout | undefined;
  let shipping: Promise<void> | undefined;
  let stopped = false;
  let retryDelayMs = 0;
  /** Messages waiting for spool space (backpressure), oldest first. */
  const blocked: { readings: Reading[]; resolve: () => void }[] = [];
  const ackMaxPending = config.ackMaxPendingReadings ?? 50_000;
  /**
   * The store answers (its last write succeeded) but has fallen this far behind, in memory
   * or in spool files still to replay: hold acknowledgements. Counting the files matters: a
   * write that times out under load looks like an outage for a moment, the spool takes
   * what arrives meanwhile, and without this the replay would then race an intake the
   * store cannot keep up with, so the lag would grow until the spool filled.
   */
  const lagging = () => retryDelayMs === 0 && memReadings + spoolBacklog >= ackMaxPending;
  /** Why a new message must wait, if it must. */
  const mustWait = () => (spool.full() ? 'spool-full' : lagging() ? 'store-lag' : blocked.length ? 'queued' : undefined);
  const lastLogged = new Map<string, number>();

  const logRejections = (gateway: string, rejected: Rejection[]) => {
    for (const r of rejected) {
      const key = `${gateway}\0${r.code}`;
      const t = now();
      if ((lastLogged.get(key) ?? 0) + 60_000 > t) continue;
      lastLogged.set(key, t);
      log.warn({ gateway, code: r.code, reason: r.message }, 'reading rejected (logged at most once a minute per gateway and code)');
    }
  };

  const schedule = (delayMs = config.flushIntervalMs) => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void ship().catch(() => {});
    }, Math.max(delayMs, retryDelayMs));
  };

  const write = async (batch: Reading[]) => {
    const end = m.ingestWriteSeconds.startTimer();
    try {
      await deps.store.writeReadings(batch);
      end();
      m.ingestWritten.inc(batch.length);
      retryDelayMs = 0;
    } catch (err) {
      m.ingestWriteErrors.inc();
      retryDelayMs = Math.min(Math.max(retryDelayMs * 2, 250), 5000) * (0.5 + Math.random() / 2);
      log.warn({ err: (err as Error).message, readings: batch.length, retryInMs: Math.round(retryDelayMs) }, 'store write failed; readings stay in the spool');
      throw err;
    }
  };

  /** Take up to batchMaxReadings from memory, splitting an entry if needed. */
  const takeFromMemory = () => {
    const batch: Reading[] = [];
    const counts: [seq: number, n: number][] = [];
    while (mem.length && batch.length < config.batchMaxReadings) {
      const e = mem[0]!;
      const room = config.batchMaxReadings - batch.length;
      const part = e.readings.length <= room ? e.readings : e.readings.slice(0, room);
      for (const r of part) batch.push(r);
      counts.push([e.seq, part.length]);
      if (part.length === e.readings.length) mem.shift();
      else e.readings = e.readings.slice(room);
    }
    return { batch, counts };
  };

  const putBack = (batch: Reading[], counts: [number, number][]) => {
    let i = 0;
    const back: MemEntry[] = counts.map(([seq, n]) => ({ seq, readings: batch.slice(i, (i += n)) }));
    mem.unshift(...back);
  };

  /** Ship memory with up to `writeConcurrency` batches in flight (InfluxDB gains from 2–4). */
  const shipMemory = async () => {
    const inflight = new Set<Promise<void>>();
    let failure: unknown;
    while ((mem.length || inflight.size) && failure === undefined) {
      while (mem.length && inflight.size < config.writeConcurrency && failure === undefined) {
        const { batch, counts } = takeFromMemory();
        const p: Promise<void> = write(batch).then(
          () => {
            memReadings -= batch.length;
            for (const [seq, n] of counts) spool.shipped(seq, n);
            unblock(); // messages held for store lag go in as soon as there is room
          },
          (err: unknown) => {
            putBack(batch, counts);
            failure = err;
          },
        ).finally(() => inflight.delete(p));
        inflight.add(p);
      }
      if (inflight.size) await Promise.race(inflight);
    }
    await Promise.all(inflight);
    spool.release();
    if (failure !== undefined) throw failure;
  };

  /** Write a replayed segment in batches, `writeConcurrency` at a time; rejects if any batch fails. */
  const writeAll = async (readings: Reading[]) => {
    let next = 0;
    const lane = async () => {
      while (next < readings.length) {
        const from = next;
        next += config.batchMaxReadings;
        await write(readings.slice(from, from + config.batchMaxReadings));
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: config.writeConcurrency }, lane));
    const failed = lanes.find((l) => l.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  };

  const shipOnce = async (): Promise<boolean> => {
    if (mem.length) {
      await shipMemory();
      return true;
    }
    if (!behind) return false;
    const segs = spool.segments();
    const seg = segs.find((x) => !x.inMemory);
    if (!seg) {
      behind = false;
      spoolBacklog = countBacklog();
      return false;
    }
    // Caught up to the open segment: new messages go to memory again from here on.
    if (seg === segs.at(-1) && seg.fd !== undefined) behind = false;
    spool.nextToReplay();
    const readings = spool.read(seg);
    await writeAll(readings);
    m.ingestReplayed.inc(readings.length);
    spool.release(seg);
    spoolBacklog = countBacklog();
    if (readings.length) log.info({ segment: seg.seq, readings: readings.length }, 'spool segment replayed');
    return true;
  };

  /** Accept held messages while there is room; a message whose spool append fails stays held (no PUBACK) and is retried. */
  const unblock = () => {
    while (blocked.length && !spool.full() && !lagging()) {
      const b = blocked[0]!;
      try {
        accept(b.readings);
      } catch (err) {
        log.error({ err: (err as Error).message }, 'spool append failed; the message stays unacknowledged and is retried');
        schedule(1000);
        return;
      }
      blocked.shift();
      b.resolve();
    }
  };

  /** One shipper at a time; resolves when memory and spool are drained, rejects on a store failure. */
  function ship(): Promise<void> {
    shipping ??= (async () => {
      try {
        while (await shipOnce()) unblock();
        spool.rollIfStale();
        spool.release();
        unblock();
      } catch (err) {
        // The store is down: messages held back for lag now go to the spool.
        unblock();
        schedule(retryDelayMs);
        throw err;
      } finally {
        shipping = undefined;
        // Work that arrived while this run was finishing (held messages, or memory a
        // released message filled) gets a run of its own.
        if (mem.length || blocked.length) schedule();
        m.ingestPending.set(memReadings);
        m.ingestSpoolBytes.set(spool.bytes());
      }
    })();
    return shipping;
  }

  function accept(readings: Reading[]) {
    const live = !behind && memReadings + readings.length <= config.memoryMaxReadings;
    const seg = spool.append(readings, live);
    if (live) {
      mem.push({ seq: seg.seq, readings });
      memReadings += readings.length;
    } else {
      if (!behind) log.warn({ memoryMaxReadings: config.memoryMaxReadings }, 'store is behind: shipping from the spool files');
      behind = true;
      spoolBacklog += readings.length;
      m.ingestSpooled.inc(readings.length);
    }
    m.ingestAccepted.inc(readings.length);
    try {
      deps.onAccepted?.(readings);
    } catch (err) {
      // A listener's failure (rules, API) must not undo a durable acceptance.
      log.error({ err }, 'a listener failed on accepted readings');
    }
    if (memReadings >= config.batchMaxReadings) void ship().catch(() => {});
    else schedule();
  }

  /** An exception ingest did not expect: a defect, so it is logged with its stack and counted. */
  const unexpected = (stage: 'decode' | 'validate' | 'message' | 'report' | 'hook', err: unknown, topic: string, index?: number) => {
    m.ingestUnexpected.inc({ stage });
    log.error({ err, stage, topic, index }, 'unexpected error in ingest');
  };
  const errorName = (err: unknown) => (err instanceof Error ? err.name : 'a non-Error value');

  /** Rejections go to the rules engine, the metrics, the log and the gateway's err topic; a failure here never undoes an acceptance. */
  const report = (topic: string, t: { enterpriseId: string; gatewayId: string }, received: number, accepted: number, rejected: Rejection[]) => {
    try {
      for (const r of rejected) m.ingestRejected.inc({ code: r.code });
      logRejections(`${t.enterpriseId}/${t.gatewayId}`, rejected);
      deps.bus.publish(topics.err(t.enterpriseId, t.gatewayId), errMessage(topic, received, accepted, rejected)).catch((err: Error) => log.warn({ err: err.message }, 'could not publish err'));
    } catch (err) {
      unexpected('report', err, topic);
    }
    try {
      deps.onRejected?.(rejected, now(), t.enterpriseId);
    } catch (err) {
      log.error({ err }, 'a listener failed on rejected readings');
    }
  };

  /** decode → validate; a reading whose check throws is rejected alone, the rest go on. */
  const check = (topic: string, t: { enterpriseId: string; gatewayId: string }, payload: Buffer) => {
    const rejected: Rejection[] = [];
    const accepted: Reading[] = [];
    let decoded;
    try {
      decoded = decodePayload(payload, { maxBytes: config.maxPayloadBytes, maxReadings: config.maxReadingsPerMessage }, now());
    } catch (err) {
      unexpected('decode', err, topic);
      rejected.push(reject('HW_ERR_INGEST_INTERNAL', `the message could not be decoded (${errorName(err)}); nothing of it is stored`));
      return { received: 0, accepted, rejected };
    }
    if (!decoded.ok) {
      rejected.push(decoded.rejection);
      return { received: 0, accepted, rejected };
    }
    const raws = decoded.readings;
    m.ingestReceived.inc(raws.length);
    const ctx = {
      registry: deps.registry.current, catalogue: deps.catalogue, enterpriseId: t.enterpriseId, gatewayId: t.gatewayId,
      nowMs: now(), maxFutureSkewMs: config.maxFutureSkewMs, maxAgeMs: config.maxAgeMs,
    };
    // One try per message, not per reading: the loop resumes after a reading that threw.
    let i = 0;
    while (i < raws.length) {
      try {
        for (; i < raws.length; i++) {
          const r = validateReading(raws[i]!, i, ctx);
          if (isRejection(r)) rejected.push(r);
          else if (recent.seen(r.sensorId, r.ts)) rejected.push(reject('HW_ERR_DUPLICATE', `${r.sensorId} at ${r.ts}`, { index: i, sensor: r.sensorId }));
          else accepted.push(r);
        }
      } catch (err) {
        unexpected('validate', err, topic, i);
        rejected.push(reject('HW_ERR_INGEST_INTERNAL', `reading ${i} could not be checked (${errorName(err)}); it is not stored`, { index: i }));
        i++;
      }
    }
    return { received: raws.length, accepted, rejected };
  };

  function handle(topic: string, payload: Buffer): HandleResult {
    const t = parseGatewayTopic(topic);
    if (!t || t.channel !== 'up') return { accepted: 0, rejected: [], spooled: undefined };
    let checked: ReturnType<typeof check>;
    try {
      checked = check(topic, t, payload);
    } catch (err) {
      // Nothing of the message was taken: say so on err. The message is still acknowledged:
      // the same payload would fail the same way, and holding it would stall the gateway.
      unexpected('message', err, topic);
      const rejected = [reject('HW_ERR_INGEST_INTERNAL', `the message could not be handled (${errorName(err)}); nothing of it is stored`)];
      report(topic, t, 0, 0, rejected);
      return { accepted: 0, rejected, spooled: undefined };
    }
    const { accepted, rejected } = checked;
    let spooled: Promise<void> | undefined;
    if (accepted.length) {
      const wait = mustWait();
      if (wait) {
        // Backpressure: the PUBACK waits until the spool has room again, or the store has
        // caught up; the gateway keeps the message meanwhile.
        spooled = new Promise<void>((resolve) => blocked.push({ readings: accepted, resolve }));
        m.ingestAckWaits.inc({ reason: wait === 'queued' ? (spool.full() ? 'spool-full' : 'store-lag') : wait });
        if (blocked.length === 1 && wait === 'spool-full') log.warn({ spoolBytes: spool.bytes(), maxBytes: config.spool.maxBytes }, 'spool full: withholding acknowledgements');
        schedule();
      } else {
        try {
          accept(accepted);
        } catch (err) {
          // The spool could not take it (disk full, I/O error): no PUBACK, so the gateway keeps the message.
          log.error({ err: (err as Error).message }, 'spool append failed; the message is not acknowledged');
          spooled = Promise.reject(err as Error);
          spooled.catch(() => {}); // handled by the broker (done(err)); never an unhandled rejection here
        }
      }
    }
    if (rejected.length) report(topic, t, checked.received, accepted.length, rejected);
    return { accepted: accepted.length, rejected, spooled };
  }

  function receive(topic: string, payload: Buffer): Promise<void> | undefined {
    try {
      return handle(topic, payload).spooled;
    } catch (err) {
      unexpected('hook', err, topic);
      const p = Promise.reject(err as Error);
      p.catch(() => {});
      return p;
    }
  }

  return {
    handle,
    receive,
    flush: async () => {
      while (shipping) await shipping.catch(() => {});
      await ship();
    },
    pending: () => memReadings,
    spoolBytes: () => spool.bytes(),
    async start({ subscribe = true } = {}) {
      if (behind) schedule(0);
      if (!subscribe) return;
      await deps.bus.subscribe(topics.allUp, receive);
    },
    /** Graceful stop: store what is in memory if the store answers; the spool keeps the rest. */
    async stop(timeoutMs = 10_000) {
      stopped = true;
      if (timer) clearTimeout(timer);
      const deadline = now() + timeoutMs;
      while (now() < deadline) {
        try {
          while (shipping) await shipping.catch(() => {});
          await ship();
          break;
        } catch {
          await sleep(Math.min(500, Math.max(0, deadline - now())));
        }
      }
      spool.close();
      spool.release(); // segments fully stored are deleted now that they are closed
      if (memReadings > 0 || spool.bytes() > 0) log.warn({ pending: memReadings, spoolBytes: spool.bytes() }, 'stopped with readings in the spool; they are replayed at next start');
    },
  };
}
