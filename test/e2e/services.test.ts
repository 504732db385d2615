import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { topics } from '../../core/src/topics.ts';
import { connectGateway, login, openSocket } from '../clients.ts';
import { waitFor } from '../ports.ts';
import { spawnHw, type SpawnedHw } from '../spawn-all.ts';

/**
 * The deployment topology of docker-compose.yml, as real processes: a broker, two ingest
 * shards, the rules engine and the API, talking over MQTT with service credentials.
 */
describe('separate processes: broker, ingest ×2, rules, api', () => {
  const influxUrl = inject('influxUrl');
  const db = `services_${Date.now()}`;
  const procs: SpawnedHw[] = [];
  let mqttPort: number;
  let httpPort: number;

  beforeAll(async () => {
    const common = { HW_SERVICE_PASSWORD: 'svc-test-secret', HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: db };
    const broker = await spawnHw(['broker'], common);
    procs.push(broker);
    mqttPort = broker.ready.mqttPort as number;
    const env = { ...common, HW_SERVICE_BROKER_URL: `mqtt://127.0.0.1:${mqttPort}` };
    procs.push(...(await Promise.all([spawnHw(['ingest', '--shard', '0/2'], env), spawnHw(['ingest', '--shard', '1/2'], env), spawnHw(['rules'], env)])));
    const api = await spawnHw(['api'], env);
    procs.push(api);
    httpPort = api.ready.httpPort as number;
  });
  afterAll(async () => {
    for (const p of procs.reverse()) expect(await p.stop()).toBe(0);
  });

  it('stores readings, raises the alert in the rules process, pushes it from the api process, and routes an acknowledgement back', async () => {
    const token = await login(httpPort, 'township');
    const sock = await openSocket(httpPort, token);
    const gw = await connectGateway(mqttPort, 'cement-liguo');
    const ts = Date.now();
    await gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts, readings: [{ sensor: 'cement-liguo.dust-resp-1', value: 9, unit: 'mg/m3' }, { sensor: 'cement-liguo.noise-1', value: 84, unit: 'dB(A)' }] }), { qos: 1 });
    const msg = await waitFor(() => sock.messages.find((m) => m.type === 'alert' && m.event.alert.sensorId === 'cement-liguo.dust-resp-1'), { what: 'alert pushed by the api process' });
    if (msg.type !== 'alert') throw new Error('unreachable');
    expect(msg.event.alert.level).toBe('red');

    const q = encodeURIComponent("SELECT count(value) FROM reading WHERE enterprise = 'cement-liguo'");
    await waitFor(async () => ((await (await fetch(`${influxUrl}/query?db=${db}&q=${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] }).results[0]?.series?.[0]?.values[0]?.[1] === 2 || undefined, { what: 'both readings stored once' });

    const res = await fetch(`http://127.0.0.1:${httpPort}/api/alerts/${encodeURIComponent(msg.event.alertId)}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ note: 'ok' }) });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { state: string; ackBy: string })).toMatchObject({ state: 'acknowledged', ackBy: 'township' });
    await gw.endAsync();
    sock.close();
  });

  // Issue 13 item 1: the split deployment had no presence, rejections or insights edges.
  const getJson = async <T>(token: string, path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${httpPort}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const activeAlert = (token: string, sensorId: string, rule: string) => async () =>
    (await getJson<{ sensorId: string; rule: string; state: string }[]>(token, '/api/alerts')).find((a) => a.sensorId === sensorId && a.rule === rule && a.state !== 'cleared');

  it('raises gateway-offline in the rules process when a gateway disconnects (presence from the broker process)', async () => {
    const token = await login(httpPort, 'city');
    const gw = await connectGateway(mqttPort, 'coal-liuxin');
    await gw.endAsync();
    await waitFor(activeAlert(token, 'gateway:coal-liuxin/gw1', 'gateway-offline'), { what: 'gateway-offline alert in the api process' });
    // Back online clears it.
    const again = await connectGateway(mqttPort, 'coal-liuxin');
    await waitFor(async () => ((await activeAlert(token, 'gateway:coal-liuxin/gw1', 'gateway-offline')()) ? undefined : true), { what: 'gateway-offline cleared' });
    await again.endAsync();
  });

  it('raises fault-out-of-range in the rules process from readings the ingest process refused', async () => {
    const token = await login(httpPort, 'city');
    const gw = await connectGateway(mqttPort, 'cement-liguo');
    const t0 = Date.now() - 60_000;
    // dust-total-1 measures 0–500 mg/m3 (examples/registry.yaml): ten readings outside it within 10 min are a fault.
    for (let i = 0; i < 10; i++) {
      await gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: t0 + i * 1000, readings: [{ sensor: 'cement-liguo.dust-total-1', value: 9999, unit: 'mg/m3' }] }), { qos: 1 });
    }
    await waitFor(activeAlert(token, 'cement-liguo.dust-total-1', 'fault-out-of-range'), { what: 'fault-out-of-range alert in the api process' });
    await gw.endAsync();
  });

  it('shows grades and live exposure from the rules process in /api/enterprises and /api/sensors', async () => {
    const token = await login(httpPort, 'city');
    // dust-resp-1 has the first test's reading; the rules process sends its snapshot within seconds.
    const sensor = await waitFor(async () => (await getJson<{ id: string; grade: { grade: number } | null; exposure: { sensorId: string; twa8h: number } | null }[]>(token, '/api/sensors?enterprise=cement-liguo')).find((s) => s.id === 'cement-liguo.dust-resp-1' && s.grade !== null && s.exposure !== null), { what: 'grade and exposure of dust-resp-1 in /api/sensors' });
    expect(sensor.exposure!.sensorId).toBe('cement-liguo.dust-resp-1');
    expect(sensor.exposure!.twa8h).toBeGreaterThan(0);
    expect(sensor.grade!.grade).toBeGreaterThanOrEqual(0);
    const ent = await waitFor(async () => (await getJson<{ id: string; grade: number | null }[]>(token, '/api/enterprises')).find((e) => e.id === 'cement-liguo' && e.grade !== null), { what: 'enterprise grade in /api/enterprises' });
    // The enterprise grade is its worst point's.
    expect(ent.grade).toBeGreaterThanOrEqual(sensor.grade!.grade);
  });
});
