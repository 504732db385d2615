import { buildApp } from '../api/src/app.ts';
import { createLiveInsights } from '../api/src/live-insights.ts';
import type { SessionStore } from '../api/src/session-store.ts';
import { createBroker, type Broker } from '../broker/src/broker.ts';
import { brokerConfigFrom } from '../broker/src/broker-config.ts';
import { holdWhileFull } from '../broker/src/hold-while-full.ts';
import type { Catalogue } from '../core/src/agents.ts';
import type { MessageBus } from '../core/src/bus.ts';
import type { Config } from '../core/src/config.ts';
import { COMPONENTS, createHealthBoard, type HealthCheck } from '../core/src/health.ts';
import type { Logger } from '../core/src/logger.ts';
import type { Metrics } from '../core/src/metrics.ts';
import type { PipelineCommand, PipelineEvent } from '../core/src/pipeline-events.ts';
import type { RegistryHolder } from '../core/src/registry.ts';
import type { Store } from '../core/src/store/store.ts';
import type { CommandHandler, EventHandler, Transport } from '../core/src/transport.ts';
import type { AlertEvent } from '../core/src/types.ts';
import { ingestConfigFrom } from '../ingest/src/ingest-config.ts';
import { createIngestWorker, type IngestWorker } from '../ingest/src/ingest-worker.ts';
import { createRulesEngine, type RulesEngine } from '../rules/src/engine.ts';
import { createInsightsPublisher } from '../rules/src/live-insights.ts';
import { persistedAlerts } from '../rules/src/persisted.ts';
import type { Watermarks } from '../core/src/streams/watermarks.ts';
import { brokerCheck, ingestChecks, rulesCheck } from './service-health.ts';
import type { Topology, UnitName } from './wiring.ts';

/** What every unit of one process shares. */
export interface UnitContext {
  config: Readonly<Config>;
  logger: Logger;
  topology: Topology;
  registry: RegistryHolder;
  catalogue: Catalogue;
  metrics: Metrics;
  transport: Transport;
}

/** A unit as the composition sees it: its consumers (keyed as in cli/wiring.ts), its lifecycle, its health checks. */
export interface Unit {
  name: UnitName;
  on: { [E in PipelineEvent]?: EventHandler<E> };
  answers: { [C in PipelineCommand]?: CommandHandler<C> };
  /** Health checks this unit reports (published by the split services). */
  checks: Record<string, HealthCheck>;
  /** Before the transport delivers. */
  start(): Promise<void>;
  /** After the transport delivers (the API listens only then). */
  ready?(): Promise<void>;
  stop(): Promise<void>;
  describe: () => Record<string, unknown>;
}

export interface BrokerUnit extends Unit { broker: Broker }

/**
 * The broker. A gateway's `up` message goes out as `gateway.up` and its PUBACK waits until
 * the transport holds it (in one process: the ingest spool has it; distributed: Redis
 * does). Gateway presence goes out as `gateway.presence`, except while the broker itself
 * stops (its own shutdown is not every gateway going offline).
 */
export function brokerUnit(ctx: UnitContext): BrokerUnit {
  let stopping = false;
  // A full stream partition (split topology): the PUBACK waits while it drains, counted.
  const deliver = holdWhileFull((topic: string, payload: Buffer, enterpriseId: string) => ctx.transport.deliver('gateway.up', { topic, payload }, enterpriseId), {
    onHeld: () => {
      broker.counters.refused.held_backlog_full = (broker.counters.refused.held_backlog_full ?? 0) + 1;
      ctx.metrics.mqttRefused.inc({ reason: 'held_backlog_full' });
    },
  });
  const broker = createBroker({
    registry: ctx.registry, logger: ctx.logger, metrics: ctx.metrics,
    beforeAck: deliver,
    onPresence: (p) => {
      if (!stopping) ctx.transport.publish('gateway.presence', p, p.enterpriseId);
    },
  }, brokerConfigFrom(ctx.config));
  return {
    name: 'broker', broker, on: {}, answers: {},
    checks: { broker: brokerCheck(broker) },
    start: () => broker.start(),
    async stop() {
      stopping = true;
      await broker.stop();
    },
    describe: () => ({ mqttPort: broker.port(), tlsPort: broker.tlsPort(), wsPort: broker.wsPort(), cluster: Boolean(ctx.config.mqtt.redisUrl) }),
  };
}

export interface IngestUnit extends Unit { worker: IngestWorker }

/**
 * Ingest: takes `gateway.up` (resolving once the readings are in the spool), sends
 * accepted readings out as `readings.accepted`, refused ones as `readings.rejected`.
 * `bus` carries the gateway's err messages.
 */
export function ingestUnit(ctx: UnitContext & { store: Store }, opts: { bus: MessageBus }): IngestUnit {
  const worker = createIngestWorker({
    registry: ctx.registry, catalogue: ctx.catalogue, store: ctx.store, bus: opts.bus, logger: ctx.logger, metrics: ctx.metrics,
    onAccepted: (rs) => ctx.transport.publish('readings.accepted', rs),
    onRejected: (rejections, ts, enterpriseId) => {
      if (rejections.length) ctx.transport.publish('readings.rejected', { rejections, ts, enterpriseId }, enterpriseId);
    },
  }, ingestConfigFrom(ctx.config));
  return {
    name: 'ingest', worker, answers: {},
    on: { 'gateway.up': (m) => worker.receive(m.topic, m.payload) },
    checks: ingestChecks(worker, ctx.config),
    start: () => worker.start({ subscribe: false }),
    stop: () => worker.stop(),
    describe: () => ({ store: ctx.store.kind }),
  };
}

export interface RulesUnit extends Unit { engine: RulesEngine }

/** Rules: consumes readings, rejections and presence; publishes alert events; answers alert commands; in the split topology publishes live insights. */
/**
 * Rules: consumes readings, rejections and presence; publishes alert events; answers alert
 * commands; in the split topology publishes live insights. Split (`watermarks` given), a
 * handler resolves only once the alert events it caused are in the store and its readings'
 * times in the evaluated watermarks, so the stream entry is acknowledged only then, and a
 * restarted worker rebuilds each window up to its watermark and evaluates the rest as it
 * is delivered again (rules/src/persisted.ts, core/src/streams/watermarks.ts).
 */
export function rulesUnit(ctx: UnitContext & { store: Store }, opts: { owns?: (enterpriseId: string) => boolean; watermarks?: Watermarks } = {}): RulesUnit {
  let marks: Map<string, number> | undefined;
  const engine = createRulesEngine({
    registry: ctx.registry, catalogue: ctx.catalogue, store: ctx.store, logger: ctx.logger, metrics: ctx.metrics,
    // Held by the transport before the engine stores it (the alert event stream, distributed):
    // a worker killed in between leaves the event where its successor looks (rules/src/rebuild.ts).
    onAlertEvent: (e) => ctx.transport.deliver('alert.event', e, e.alert.enterpriseId).catch((err: unknown) => ctx.logger.error({ err }, 'alert event not handed to its consumers')),
    streamedAlertEvents: (sinceMs) => streamedAlertEvents(ctx.transport, sinceMs),
    owns: opts.owns,
    rebuildUntil: opts.watermarks ? (sensorId) => marks?.get(sensorId) : undefined,
  }, { clearHoldMs: 30_000 });
  const insights = ctx.topology === 'services'
    ? createInsightsPublisher({ engine, registry: ctx.registry, owns: opts.owns, publish: (s) => ctx.transport.publish('insights.live', s) })
    : undefined;
  const wm = opts.watermarks;
  const persisted = wm ? persistedAlerts(engine) : undefined;
  return {
    name: 'rules', engine,
    on: {
      'readings.accepted': (rs) => {
        engine.handleReadings(rs);
        insights?.touched(rs);
        if (wm && persisted) return Promise.all([persisted(), wm.record(rs)]).then(() => undefined);
      },
      'readings.rejected': (r) => {
        engine.handleRejections(r.rejections, r.ts);
        return persisted?.();
      },
      'gateway.presence': (p) => {
        engine.handlePresence(p);
        return persisted?.();
      },
    },
    // Commands come from the API, which validated them and checked the user's scope.
    answers: {
      'alert.command': async (cmd) => {
        const r = engine.command(cmd) ?? null;
        await persisted?.();
        return r;
      },
    },
    checks: { rules: rulesCheck(engine) },
    async start() {
      marks = await wm?.load();
      await engine.start();
      insights?.start();
    },
    async stop() {
      insights?.stop();
      await engine.stop();
    },
    describe: () => ({ store: ctx.store.kind }),
  };
}

/** Pages of the alert event stream read at most at a rules worker's start (its retention is 100,000 events: event-stream.ts). */
const MAX_REPLAY_PAGES = 200;

/** The alert events the transport keeps from `sinceMs` on, in order (none in one process). */
async function streamedAlertEvents(transport: Transport, sinceMs: number): Promise<AlertEvent[]> {
  const out: AlertEvent[] = [];
  let since = `${Math.max(0, sinceMs - 1)}-0`;
  for (let page = 0; page < MAX_REPLAY_PAGES; page++) {
    const r = await transport.replay('alert.event', since, 1000);
    if (!r) break;
    for (const e of r.events) out.push(e.payload);
    if (!r.more || r.events.length === 0) break;
    since = r.events[r.events.length - 1]!.id;
  }
  return out;
}

/**
 * The API. In one process it asks the other units directly for health and insights
 * (`local`); split, it keeps the services' health reports and the latest live insights.
 */
export function apiUnit(ctx: UnitContext & { store: Store }, local?: { health: Record<string, HealthCheck>; insights: RulesEngine }, opts: { sessions?: SessionStore } = {}): Unit {
  const board = createHealthBoard();
  const live = createLiveInsights(ctx.registry);
  let health = local?.health;
  if (!health) {
    // The other services' health, from their reports (a component whose reports stop is down).
    const reported = (name: string): HealthCheck => () => board.components([name])[name]!;
    health = Object.fromEntries(COMPONENTS.filter((n) => n !== 'store' && n !== 'api').map((n) => [n, reported(n)]));
  }
  const api = buildApp({
    registry: ctx.registry, store: ctx.store, logger: ctx.logger, metrics: ctx.metrics, catalogue: ctx.catalogue, health,
    insights: local?.insights ?? live,
    sessionTtlMs: ctx.config.http.sessionTtlS * 1000,
    // Split: sessions in Redis, so any replica accepts any token; in one process, in memory.
    sessions: opts.sessions,
    // The rules engine owns the alert lifecycle: ask the worker that owns the alert's
    // enterprise, and answer with the event it caused.
    actions: { run: (cmd) => ctx.transport.request('alert.command', cmd, { partitionKey: api.view.get(cmd.alertId)?.enterpriseId ?? cmd.alertId }) },
    replayAlertEvents: async (since, limit) => {
      const r = await ctx.transport.replay('alert.event', since, limit);
      return r && { events: r.events.map((e) => ({ id: e.id, event: e.payload })), gap: r.gap, more: r.more };
    },
  });
  const on: Unit['on'] = {
    'readings.accepted': (rs) => api.onReadings(rs),
    'alert.event': (e, meta) => api.publishAlertEvent(e, meta.id),
  };
  if (ctx.topology === 'services') {
    on['service.health'] = (r) => void board.accept(r);
    on['insights.live'] = (s) => live.receive(s);
  }
  return {
    name: 'api', on, answers: {}, checks: {},
    start: () => api.loadHistory(),
    async ready() {
      await api.app.listen({ host: ctx.config.http.host, port: ctx.config.http.port });
    },
    stop: () => api.app.close(),
    describe: () => ({ httpPort: (api.app.server.address() as { port: number } | null)?.port ?? -1 }),
  };
}
