import type { Store } from '../../core/src/store/store.ts';
import type { Watermarks } from '../../core/src/streams/watermarks.ts';
import type { Transport } from '../../core/src/transport.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { createRulesEngine, type RulesEngine } from '../../rules/src/engine.ts';
import { createInsightsPublisher } from '../../rules/src/live-insights.ts';
import { persistedAlerts } from '../../rules/src/persisted.ts';
import { rulesCheck } from '../service-health.ts';
import type { Unit, UnitContext } from './unit.ts';

export interface RulesUnit extends Unit { engine: RulesEngine }

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
