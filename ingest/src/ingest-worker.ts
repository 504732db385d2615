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

export interface IngestConfig {
  batchMaxReadings: number;
  flushIntervalMs: number;
  maxReadingsPerMessage: number;
  maxPayloadBytes: number;
  maxFutureSkewMs: number;
  maxAgeMs: number;
  /** Own only these enterprises (sharding); undefined = all. */
  owns?: (enterpriseId: string) => boolean;
}

export interface IngestDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  bus: MessageBus;
  logger: Logger;
  metrics: Metrics;
  /** Accepted readings, as soon as they pass validation (the rules engine listens here). */
  onAccepted?: (readings: Reading[]) => void;
  now?: () => number;
}

/** What the gateway finds on its err topic. */
export interface ErrMessage {
  topic: string;
  received: number;
  accepted: number;
  rejected: Rejection[];
}

export interface IngestWorker {
  start(): Promise<void>;
  /** Handle one MQTT message (exposed for tests and the in-process path). */
  handle(topic: string, payload: Buffer): { accepted: number; rejected: Rejection[] };
  /** Write everything pending; resolves when durable. */
  flush(): Promise<void>;
  stop(): Promise<void>;
  pending(): number;
}

/** Remembers the last timestamps per sensor, to refuse duplicates (bounded memory). */
class RecentTimestamps {
  private readonly bySensor = new Map<string, Set<number>>();
  constructor(private readonly perSensor = 256) {}
  seen(sensorId: string, ts: number): boolean {
    let set = this.bySensor.get(sensorId);
    if (!set) this.bySensor.set(sensorId, (set = new Set()));
    if (set.has(ts)) return true;
    set.add(ts);
    if (set.size > this.perSensor) set.delete(set.values().next().value as number);
    return false;
  }
}

/** decode → validate → normalise → batch → write. */
export function createIngestWorker(deps: IngestDeps, config: IngestConfig): IngestWorker {
  const log = deps.logger.child({ module: 'ingest' });
  const now = deps.now ?? Date.now;
  const m = deps.metrics;
  const recent = new RecentTimestamps();
  let buffer: Reading[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  let stopped = false;
  let retryDelayMs = 0;
  // Rate-limited rejection log: one line per gateway and code per minute.
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

  const schedule = () => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, Math.max(config.flushIntervalMs, retryDelayMs));
  };

  const writeBatch = async (batch: Reading[]) => {
    const end = m.ingestWriteSeconds.startTimer();
    try {
      await deps.store.writeReadings(batch);
      end();
      m.ingestWritten.inc(batch.length);
      retryDelayMs = 0;
    } catch (err) {
      m.ingestWriteErrors.inc();
      // Keep the batch (in front, order preserved) and back off; nothing accepted is dropped.
      buffer = batch.concat(buffer);
      retryDelayMs = Math.min(Math.max(retryDelayMs * 2, 250), 10_000) * (0.5 + Math.random() / 2);
      log.warn({ err: (err as Error).message, readings: batch.length, retryInMs: Math.round(retryDelayMs) }, 'store write failed; will retry');
      schedule();
    } finally {
      m.ingestPending.set(buffer.length);
    }
  };

  function flush(): Promise<void> {
    writing = writing.then(async () => {
      while (buffer.length > 0) {
        const batch = buffer.splice(0, config.batchMaxReadings);
        await writeBatch(batch);
        if (retryDelayMs > 0) break;
      }
    });
    return writing;
  }

  function handle(topic: string, payload: Buffer) {
    const t = parseGatewayTopic(topic);
    if (!t || t.channel !== 'up') return { accepted: 0, rejected: [] };
    if (config.owns && !config.owns(t.enterpriseId)) return { accepted: 0, rejected: [] };
    const decoded = decodePayload(payload, { maxBytes: config.maxPayloadBytes, maxReadings: config.maxReadingsPerMessage });
    const rejected: Rejection[] = [];
    const accepted: Reading[] = [];
    if (!decoded.ok) {
      rejected.push(decoded.rejection);
    } else {
      m.ingestReceived.inc(decoded.readings.length);
      const ctx = {
        registry: deps.registry.current, catalogue: deps.catalogue, enterpriseId: t.enterpriseId, gatewayId: t.gatewayId,
        nowMs: now(), maxFutureSkewMs: config.maxFutureSkewMs, maxAgeMs: config.maxAgeMs,
      };
      for (let i = 0; i < decoded.readings.length; i++) {
        const r = validateReading(decoded.readings[i]!, i, ctx);
        if (isRejection(r)) rejected.push(r);
        else if (recent.seen(r.sensorId, r.ts)) rejected.push(reject('HW_ERR_DUPLICATE', `${r.sensorId} at ${r.ts}`, { index: i, sensor: r.sensorId }));
        else accepted.push(r);
      }
    }
    if (accepted.length) {
      m.ingestAccepted.inc(accepted.length);
      for (const r of accepted) buffer.push(r);
      m.ingestPending.set(buffer.length);
      if (buffer.length >= config.batchMaxReadings) void flush();
      else schedule();
      deps.onAccepted?.(accepted);
    }
    if (rejected.length) {
      for (const r of rejected) m.ingestRejected.inc({ code: r.code });
      const msg: ErrMessage = { topic, received: decoded.ok ? decoded.readings.length : 0, accepted: accepted.length, rejected };
      deps.bus.publish(topics.err(t.enterpriseId, t.gatewayId), JSON.stringify(msg)).catch((err: Error) => log.warn({ err: err.message }, 'could not publish err'));
      logRejections(`${t.enterpriseId}/${t.gatewayId}`, rejected);
    }
    return { accepted: accepted.length, rejected };
  }

  return {
    handle,
    flush,
    pending: () => buffer.length,
    async start() {
      await deps.bus.subscribe(topics.allUp, (topic, payload) => {
        try {
          handle(topic, payload);
        } catch (err) {
          // A decoder bug must never take the worker down; the gateway is told.
          log.error({ err, topic }, 'ingest failed on a message');
        }
      });
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      retryDelayMs = 0;
      await flush();
    },
  };
}
