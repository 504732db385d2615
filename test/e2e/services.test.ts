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
});
