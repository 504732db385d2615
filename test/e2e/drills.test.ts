import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../clients.ts';
import { startInfluxd, type InfluxdHandle } from '../influxd.ts';
import { waitFor } from '../ports.ts';
import { spawnAll, type SpawnedAll } from '../spawn-all.ts';

const E = 'cement-liguo';
const SENSORS = [
  ['cement-liguo.dust-resp-1', 0.3, 'mg/m3'],
  ['cement-liguo.dust-total-1', 1.1, 'mg/m3'],
  ['cement-liguo.so2-1', 1, 'mg/m3'],
  ['cement-liguo.noise-1', 80, 'dB(A)'],
] as const;

async function countIn(url: string, db: string): Promise<Map<string, number>> {
  const q = encodeURIComponent('SELECT count(value) FROM reading GROUP BY sensor');
  const body = (await (await fetch(`${url}/query?db=${db}&q=${q}`)).json()) as { results: { series?: { tags: { sensor: string }; values: [string, number][] }[] }[] };
  return new Map((body.results[0]?.series ?? []).map((s) => [s.tags.sensor, s.values[0]![1]]));
}

/** Publishes one 4-reading batch every `everyMs` with unique timestamps; remembers which were acknowledged. */
function load(gw: MqttClient, startTs: number, everyMs = 4) {
  let i = 0;
  let published = 0;
  const acked: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const ts = startTs + i++;
      published++;
      gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ ts, readings: SENSORS.map(([sensor, value, unit]) => ({ sensor, value, unit })) }), { qos: 1 })
        .then(() => acked.push(ts), () => {});
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    acked,
    published: () => published,
    async stop() {
      running = false;
      await loop;
    },
  };
}

describe('fault drills: nothing acknowledged is lost', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('influxd stopped during steady load and started again: every accepted reading is stored exactly once', async () => {
    const influx: InfluxdHandle = await startInfluxd();
    cleanups.push(() => influx.destroy());
    const db = 'drill_outage';
    // A small memory budget forces the outage onto the spool files, so replay is exercised too.
    const hw: SpawnedAll = await spawnAll({ HW_INFLUX_URL: influx.url, HW_INFLUX_DATABASE: db, HW_INGEST_MEMORY_MAX_READINGS: '400', HW_INGEST_FLUSH_INTERVAL_MS: '50', HW_INGEST_SPOOL_SEGMENT_MAX_MS: '200', HW_MQTT_RATE_PER_GATEWAY_PER_S: '0' });
    cleanups.push(async () => void (await hw.stop()));
    const gw = await connectGateway(hw.mqttPort, E);
    const l = load(gw, Date.now() - 60_000);
    // Phases end by counts, not by time, so a loaded machine runs the same drill, only slower:
    // 200 acknowledged before the outage, 300 more during it (they go to the spool), 100 after.
    const ackedAtLeast = (n: number, what: string) => waitFor(() => l.acked.length >= n || undefined, { what, timeoutMs: 30_000, intervalMs: 20 });
    await ackedAtLeast(200, '200 acknowledged before the outage');
    await influx.stop();
    await ackedAtLeast(l.acked.length + 300, '300 more acknowledged while influxd is down');
    await influx.restart();
    await ackedAtLeast(l.acked.length + 100, '100 more acknowledged after influxd is back');
    await l.stop();
    await waitFor(() => l.acked.length === l.published() || undefined, { what: 'all publishes acknowledged', timeoutMs: 10_000 });
    const accepted = l.acked.length;
    expect(accepted).toBeGreaterThan(500);

    const counts = await waitFor(async () => {
      const c = await countIn(influx.url, db);
      return SENSORS.every(([s]) => c.get(s) === accepted) ? c : undefined;
    }, { what: `${accepted} readings per sensor in InfluxDB`, timeoutMs: 30_000 });
    for (const [s] of SENSORS) expect(counts.get(s)).toBe(accepted);
    const metrics = await (await fetch(`http://127.0.0.1:${hw.httpPort}/metrics`)).text();
    const written = Number(/hw_ingest_readings_written_total (\d+)/.exec(metrics)?.[1]);
    const replayed = Number(/hw_ingest_readings_replayed_total (\d+)/.exec(metrics)?.[1]);
    expect(replayed).toBeGreaterThan(0);
    expect(written).toBeGreaterThanOrEqual(accepted * SENSORS.length);
    const storedTotal = SENSORS.reduce((n, [s]) => n + counts.get(s)!, 0);
    console.log(`drill influxd outage: published ${l.published()} msgs × ${SENSORS.length}, accepted ${accepted * SENSORS.length} readings, stored ${storedTotal}, lost ${accepted * SENSORS.length - storedTotal}, replayed from spool ${replayed}`);
    await gw.endAsync();
  });

  it('kill -9 of the all-in-one mid-load and a restart: every acknowledged reading is stored', async () => {
    const influxUrl = inject('influxUrl');
    const db = 'drill_kill9';
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-kill9-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    const env = { HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: db, HW_DATA_DIR: dataDir, HW_INGEST_FLUSH_INTERVAL_MS: '500', HW_MQTT_RATE_PER_GATEWAY_PER_S: '0' };
    const first = await spawnAll(env);
    const gw = await connectGateway(first.mqttPort, E);
    gw.on('error', () => {});
    const l = load(gw, Date.now() - 120_000, 2);
    // Killed once 250 are acknowledged (by count, not time: a loaded machine is only slower).
    await waitFor(() => l.acked.length >= 250 || undefined, { what: '250 acknowledged before the kill', timeoutMs: 30_000, intervalMs: 10 });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    await l.stop();
    gw.end(true);
    const acked = [...l.acked];
    expect(acked.length).toBeGreaterThan(200);

    const second = await spawnAll(env);
    cleanups.push(async () => void (await second.stop()));
    const counts = await waitFor(async () => {
      const c = await countIn(influxUrl, db);
      return SENSORS.every(([s]) => (c.get(s) ?? 0) >= acked.length) ? c : undefined;
    }, { what: 'every acknowledged reading in InfluxDB after restart', timeoutMs: 30_000 });
    // Every acknowledged timestamp is there (not merely the same number of points).
    const q = encodeURIComponent(`SELECT value FROM reading WHERE sensor = '${SENSORS[0][0]}'`);
    const body = (await (await fetch(`${influxUrl}/query?db=${db}&epoch=ms&q=${q}`)).json()) as { results: { series: { values: [number, number][] }[] }[] };
    const stored = new Set(body.results[0]!.series[0]!.values.map((v) => v[0]));
    const missing = acked.filter((ts) => !stored.has(ts));
    expect(missing).toEqual([]);
    // Never more than was published (exactly once per identity).
    for (const [s] of SENSORS) expect(counts.get(s)).toBeLessThanOrEqual(l.published());
    const storedTotal = SENSORS.reduce((n, [s]) => n + counts.get(s)!, 0);
    console.log(`drill kill -9: published ${l.published() * SENSORS.length} readings, acknowledged ${acked.length * SENSORS.length}, stored ${storedTotal} (unacknowledged ones may be stored too), acknowledged but missing ${missing.length} of ${acked.length} checked on ${SENSORS[0][0]}`);
  });

  it('SIGTERM flushes: everything acknowledged is stored and the spool is empty when the process exits', async () => {
    const influxUrl = inject('influxUrl');
    const db = 'drill_sigterm';
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-term-'));
    cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
    // A long flush interval: without the graceful flush, these readings would still be in memory.
    const hw = await spawnAll({ HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: db, HW_DATA_DIR: dataDir, HW_INGEST_FLUSH_INTERVAL_MS: '60000', HW_INGEST_BATCH_MAX_READINGS: '100000', HW_MQTT_RATE_PER_GATEWAY_PER_S: '0' });
    const gw = await connectGateway(hw.mqttPort, E);
    const t0 = Date.now() - 5000;
    for (let i = 0; i < 200; i++) {
      await gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ ts: t0 + i, readings: SENSORS.map(([sensor, value, unit]) => ({ sensor, value, unit })) }), { qos: 1 });
    }
    await gw.endAsync();
    expect((await countIn(influxUrl, db)).get(SENSORS[0][0]) ?? 0).toBe(0);
    expect(await hw.stop('SIGTERM')).toBe(0);
    const counts = await countIn(influxUrl, db);
    for (const [s] of SENSORS) expect(counts.get(s)).toBe(200);
    expect(readdirSync(join(dataDir, 'spool'))).toEqual([]);
  });
});
