import type { FastifyInstance } from 'fastify';
import { checkAll, COMPONENTS, summarise, type HealthCheck } from '../../core/src/health.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { AlertView } from './alert-view.ts';
import { HealthSchema } from './schemas.ts';

/**
 * GET /api/health: the store, the API itself and the `health` components given (asked
 * directly in one process, or read from the services' reports when split), 503 when one fails.
 */
export function registerHealthRoute(api: FastifyInstance, deps: { store: Store; view: AlertView; clients: { readonly size: number }; health?: Record<string, HealthCheck> }) {
  api.get('/api/health', { schema: { tags: ['operations'], security: [], response: { 200: HealthSchema, 503: HealthSchema } } }, async (_req, reply) => {
    const checks: Record<string, HealthCheck> = {
      ...deps.health,
      store: () => deps.store.health(),
      api: () => ({ ok: true, detail: `${deps.clients.size} WebSocket clients, ${deps.view.all().length} alerts in view` }),
    };
    // The usual components first, in pipeline order, then any others.
    const names = [...COMPONENTS.filter((n) => n in checks), ...Object.keys(checks).filter((n) => !(COMPONENTS as readonly string[]).includes(n))];
    const health = summarise(await checkAll(Object.fromEntries(names.map((n) => [n, checks[n]!]))));
    return reply.code(health.status === 'ok' ? 200 : 503).send(health);
  });
}

/** GET /metrics: Prometheus text, with the WebSocket client count as of the scrape. */
export function registerMetricsRoute(api: FastifyInstance, deps: { metrics: Metrics; clients: { readonly size: number } }) {
  api.get('/metrics', { schema: { tags: ['operations'], security: [], summary: 'Prometheus text (prom-client)', response: { 200: { type: 'string' } } } }, async (_req, reply) => {
    deps.metrics.wsClients.set(deps.clients.size);
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
