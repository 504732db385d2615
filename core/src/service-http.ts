import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkAll, summarise, type HealthCheck } from './health.ts';
import type { Metrics } from './metrics.ts';

/**
 * A split service's own small HTTP endpoint (HW_SERVICE_HTTP_PORT): `/metrics`, its
 * Prometheus registry (ingest, rules and broker counters are otherwise in no API), and
 * `/healthz`, its components' checks: 200 when all are ok, 503 otherwise (a container
 * health check). Nothing else is served; only GET.
 */
export async function startServiceHttp(opts: { host: string; port: number; metrics: Metrics; checks: Record<string, HealthCheck>; service: string }): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const reply = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
      res.end(body);
    };
    if (req.method !== 'GET') return reply(405, 'text/plain', 'GET only\n');
    if (path === '/metrics') {
      opts.metrics.registry.metrics().then((text) => reply(200, opts.metrics.registry.contentType, text), () => reply(500, 'text/plain', 'metrics failed\n'));
      return;
    }
    if (path === '/healthz') {
      checkAll(opts.checks).then((components) => {
        const s = summarise(components);
        reply(s.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify({ service: opts.service, ...s }));
      }, () => reply(503, 'application/json', JSON.stringify({ service: opts.service, status: 'degraded' })));
      return;
    }
    reply(404, 'text/plain', 'not found: /metrics or /healthz\n');
  });
  // A client that never finishes its request must not hold a socket for ever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.maxHeadersCount = 50;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
