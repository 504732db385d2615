import { buildApp } from '../../api/src/app.ts';
import { createLiveInsights } from '../../api/src/live-insights.ts';
import type { SessionStore } from '../../api/src/session-store.ts';
import { COMPONENTS, createHealthBoard, type HealthCheck } from '../../core/src/health.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { RulesEngine } from '../../rules/src/engine.ts';
import type { Unit, UnitContext } from './unit.ts';

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
