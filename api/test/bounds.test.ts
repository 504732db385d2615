import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { login } from '../../test/clients.ts';
import { startInfluxd, type InfluxdHandle } from '../../test/influxd.ts';
import { spawnAll, type SpawnedAll } from '../../test/spawn-all.ts';
import { MAX_READING_SPAN_MS } from '../../core/src/store/time-range.ts';

/**
 * No request may run unbounded (issue 12 item 8), against the real all-in-one process
 * (broker, ingest, rules, API in one event loop) with a real influxd, and with the
 * embedded SQLite store. A request that froze the event loop would also stop /api/health:
 * every request here has a deadline, and health must answer right after.
 */
const OWN = 'cement-liguo.dust-resp-1';

function suite(name: string, setup: () => Promise<{ env: Record<string, string>; influxd?: InfluxdHandle }>) {
  describe(`bounded requests (${name})`, () => {
    let hw: SpawnedAll;
    let influxd: InfluxdHandle | undefined;
    let token: string;
    beforeAll(async () => {
      const s = await setup();
      influxd = s.influxd;
      hw = await spawnAll(s.env);
      token = await login(hw.httpPort, 'officer');
    });
    afterAll(async () => {
      await hw?.stop();
      await influxd?.destroy();
    });

    const get = async (path: string, timeoutMs = 5000) => {
      const t0 = Date.now();
      const res = await fetch(`http://127.0.0.1:${hw.httpPort}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(timeoutMs) });
      const text = await res.text();
      let body: { code?: string; message?: string } = {};
      try {
        body = JSON.parse(text) as typeof body;
      } catch {
        /* not JSON */
      }
      return { status: res.status, body, ms: Date.now() - t0 };
    };
    const responsive = async () => {
      const h = await get('/api/health', 2000);
      expect(h.status).toBeLessThan(600);
      expect(h.ms).toBeLessThan(2000);
    };

    it.each([
      // The review's request: the whole representable range at a 1 s interval (and an unknown field name).
      ['from=0&to=8.64e15&interval=1', 'interval'],
      ['from=0&to=8640000000000000&intervalMs=1000', 'querystring/intervalMs'],
      // Times so large that adding the interval does not change them: the bucket loop never advanced.
      ['from=1e21&to=1e21', 'querystring/from'],
      ['from=8640000000000001&to=8640000000000001', 'querystring/from'],
      ['from=9007199254740993&to=9007199254740993&intervalMs=60000', 'querystring/from'],
      ['from=2000&to=1000', 'querystring/to'],
      ['from=-1&to=1000', 'querystring/from'],
      ['from=0&to=1000&intervalMs=999', 'querystring/intervalMs'],
      ['from=0&to=1000&intervalMs=1e300', 'querystring/intervalMs'],
      ['from=0.5&to=1000', 'querystring/from'],
    ])('readings?%s → coded 400 naming %s, at once, and the process stays responsive', async (query, field) => {
      const res = await get(`/api/sensors/${OWN}/readings?${query}`);
      expect(res.status).toBe(400);
      expect(res.body.code).toMatch(/^HW_ERR_(VALIDATION|BAD_RANGE)$/);
      expect(res.body.message).toContain(field);
      expect(res.ms).toBeLessThan(2000);
      await responsive();
    });

    it('serves the largest allowed history (10,000 buckets) and refuses one more', async () => {
      const to = Date.now();
      const step = 60_000;
      const from = (Math.floor(to / step) - 9_999) * step;
      const ok = await get(`/api/sensors/${OWN}/readings?from=${from}&to=${to}&intervalMs=${step}`);
      expect(ok.status).toBe(200);
      expect((ok.body as unknown as { points: unknown[] }).points).toHaveLength(10_000);
      const over = await get(`/api/sensors/${OWN}/readings?from=${from - step}&to=${to}&intervalMs=${step}`);
      expect(over.status).toBe(400);
      expect(over.body).toMatchObject({ code: 'HW_ERR_BAD_RANGE' });
    });

    it('bounds the span of reading history to 31 days whatever the interval (issue 12 review 2: a year at one bucket scanned every reading)', async () => {
      const to = Date.now();
      const D = 24 * 3600_000;
      // The review's request: the sensor's whole history in one 366-day bucket.
      for (const query of [`from=0&to=${to}&intervalMs=31622400000`, `from=${to - 31 * D - 1}&to=${to}&intervalMs=${D}`]) {
        const res = await get(`/api/sensors/${OWN}/readings?${query}`);
        expect(res.status, query).toBe(400);
        expect(res.body.code, query).toBe('HW_ERR_BAD_RANGE');
        expect(res.body.message, query).toContain('querystring/from');
        expect(res.body.message, query).toContain(String(MAX_READING_SPAN_MS));
      }
      const ok = await get(`/api/sensors/${OWN}/readings?from=${to - 31 * D}&to=${to}&intervalMs=${D}`);
      expect(ok.status).toBe(200);
      await responsive();
    });

    it('bounds exposure windows, KPI and audit periods, and pages', async () => {
      const now = Date.now();
      for (const [path, field] of [
        [`/api/sensors/${OWN}/exposure?from=0&to=${now}`, 'querystring/from'],
        [`/api/sensors/${OWN}/exposure?from=1e21`, 'from'],
        [`/api/sensors/${OWN}/exposure?from=${now}&to=${now - 1}`, 'querystring/to'],
        ['/api/alerts?from=5&to=1', 'to'],
        ['/api/alerts?limit=0', 'limit'],
        ['/api/alerts?offset=1e12', 'offset'],
        ['/api/audit?from=0&to=8.64e15', 'from'],
        ['/api/audit?limit=5001', 'limit'],
      ] as const) {
        const res = await get(path);
        expect(res.status, path).toBe(400);
        expect(res.body.message, path).toContain(field);
      }
      const ok = await get(`/api/sensors/${OWN}/exposure?from=${now - 3600_000}&to=${now}`);
      expect(ok.status).toBe(200);
      await responsive();
    });

    it('answers ids that InfluxQL cannot hold with a coded 400, and quotes the others (no parse error, no 500)', async () => {
      for (const id of ["a'b", 'a\\b', 'a\nb', "x' OR 1=1 --", '"; DROP DATABASE x', '徐州\'"\\']) {
        const res = await get(`/api/audit?alertId=${encodeURIComponent(id)}`);
        expect(res.status, JSON.stringify(id)).toBe(200);
      }
      for (const id of ['a\u0000b', 'a\u0001b', 'a\u007fb']) {
        const res = await get(`/api/audit?alertId=${encodeURIComponent(id)}`);
        expect(res.status, JSON.stringify(id)).toBe(400);
        expect(res.body.code).toBe('HW_ERR_BAD_ID');
      }
      await responsive();
    });

    if (name === 'influxdb') {
      it('answers 503 with a code when InfluxDB is down, and 200 again when it is back', async () => {
        await influxd!.stop();
        try {
          for (const path of [`/api/sensors/${OWN}/readings?from=${Date.now() - 3600_000}&to=${Date.now()}`, `/api/sensors/${OWN}/exposure`, '/api/audit', '/api/kpi']) {
            const res = await get(path, 15_000);
            // The officer may not see the KPI (403 before the store is asked); everything else needs the store.
            if (path === '/api/kpi') {
              expect(res.status).toBe(403);
              continue;
            }
            expect(res.status, path).toBe(503);
            expect(res.body.code, path).toBe('HW_ERR_STORE_UNAVAILABLE');
          }
        } finally {
          await influxd!.restart();
        }
        const back = await get(`/api/sensors/${OWN}/exposure`);
        expect(back.status).toBe(200);
      });
    }
  });
}

suite('influxdb', async () => {
  const influxd = await startInfluxd();
  return { influxd, env: { HW_INFLUX_URL: influxd.url, HW_INFLUX_DATABASE: `bounds_${Date.now()}` } };
});
suite('sqlite', async () => ({ env: {} }));
