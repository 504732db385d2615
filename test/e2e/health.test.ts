import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startInfluxd, type InfluxdHandle } from '../influxd.ts';
import { waitFor } from '../ports.ts';
import { spawnAll, type SpawnedAll, type SpawnedHw } from '../spawn-all.ts';
import { startServices, type RunningServices } from '../topologies.ts';

interface Health { status: string; components: Record<string, { ok: boolean; detail?: string }> }

async function health(httpPort: number): Promise<{ code: number; body: Health }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/health`);
  return { code: res.status, body: (await res.json()) as Health };
}
const down = (h: Health) => Object.entries(h.components).filter(([, c]) => !c.ok).map(([n]) => n).sort();
const ALL = ['broker', 'ingest', 'spool', 'store', 'rules', 'api'];

/** /api/health names the component that is down, from that component's real state (issue 12 item 16). */
describe('health: each component reports its real state', () => {
  describe('all-in-one', () => {
    let influxd: InfluxdHandle;
    let hw: SpawnedAll;
    beforeAll(async () => {
      // Its own influxd, so stopping it leaves the other test files' one alone.
      influxd = await startInfluxd();
      hw = await spawnAll({ HW_INFLUX_URL: influxd.url, HW_INFLUX_DATABASE: `health_${Date.now()}` });
    });
    afterAll(async () => {
      expect(await hw?.stop()).toBe(0);
      await influxd?.destroy();
    });

    it('reports broker, ingest, spool, store, rules and api; with influxd stopped, the store is down and nothing else', async () => {
      const ok = await health(hw.httpPort);
      expect(ok.code).toBe(200);
      expect(Object.keys(ok.body.components)).toEqual(ALL);
      expect(down(ok.body)).toEqual([]);
      // The rules engine's entry comes from its own state, not a constant.
      expect(ok.body.components.rules!.detail).toMatch(/periodic check \d+\.\d s ago/);

      await influxd.stop();
      const bad = await waitFor(async () => { const h = await health(hw.httpPort); return h.code === 503 ? h : undefined; }, { what: 'health 503 with influxd stopped' });
      expect(bad.body.status).toBe('degraded');
      expect(down(bad.body)).toEqual(['store']);
      expect(bad.body.components.store!.detail).toContain(influxd.url);

      await influxd.restart();
      await waitFor(async () => (await health(hw.httpPort)).code === 200 || undefined, { what: 'health 200 with influxd back' });
    });
  });

  describe('split services', () => {
    const influxUrl = inject('influxUrl');
    let topo: RunningServices;
    let rules: SpawnedHw;
    let ingest: SpawnedHw;
    let httpPort: number;
    beforeAll(async () => {
      topo = await startServices({ influxUrl, database: `health_split_${Date.now()}`, ingestWorkers: 1, rulesWorkers: 1, env: { HW_SERVICE_HEALTH_REPORT_MS: '300', HW_SERVICE_HTTP_PORT: '0' } });
      [ingest] = topo.processes.ingest as [SpawnedHw];
      [rules] = topo.processes.rules as [SpawnedHw];
      httpPort = topo.httpPort;
    });
    afterAll(async () => {
      await topo?.stop();
    });

    it('reports every service from its reports over Redis; a killed rules service, then a stopped ingest, is named down', async () => {
      const ok = await waitFor(async () => { const h = await health(httpPort); return h.code === 200 ? h : undefined; }, { what: 'every service reported healthy' });
      expect(Object.keys(ok.body.components)).toEqual(ALL);
      expect(ok.body.components.rules!.detail).toMatch(/^rules-0of1: .*periodic check/);
      expect(ok.body.components.ingest!.detail).toMatch(/^ingest@ingest0: \d+ readings/);

      // Each service's own endpoint: its metrics and its checks (a container health check).
      for (const [proc, metric, service] of [[ingest, 'hw_ingest_readings_accepted_total', 'ingest@ingest0'], [rules, 'hw_alerts_raised_total', 'rules-0of1']] as const) {
        const base = `http://127.0.0.1:${proc.ready.servicePort as number}`;
        expect(await (await fetch(`${base}/metrics`)).text()).toContain(metric);
        const hz = await fetch(`${base}/healthz`);
        expect(hz.status).toBe(200);
        expect(await hz.json()).toMatchObject({ service, status: 'ok' });
        expect((await fetch(`${base}/other`)).status).toBe(404);
        expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
      }

      // kill -9: no goodbye, the reports just stop.
      await rules.stop('SIGKILL');
      const noRules = await waitFor(async () => { const h = await health(httpPort); return h.code === 503 ? h : undefined; }, { what: 'rules down' });
      expect(down(noRules.body)).toEqual(['rules']);
      expect(noRules.body.components.rules!.detail).toMatch(/rules-0of1: down, no report for \d+\.\d s/);

      await ingest.stop();
      const noIngest = await waitFor(async () => { const h = await health(httpPort); return down(h.body).includes('ingest') ? h : undefined; }, { what: 'ingest down' });
      expect(down(noIngest.body)).toEqual(['ingest', 'rules', 'spool']);
      expect(noIngest.body.components.broker!.ok).toBe(true);
      expect(noIngest.body.components.store!.ok).toBe(true);
    });
  });
});
