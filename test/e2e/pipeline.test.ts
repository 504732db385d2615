import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { spawnAll, type SpawnedAll } from '../spawn-all.ts';
import { connectGateway, login, openSocket } from '../clients.ts';
import { waitFor } from '../ports.ts';
import { topics } from '../../core/src/topics.ts';
import type { ErrMessage } from '../../ingest/src/ingest-worker.ts';

/**
 * The walking skeleton end to end: the real all-in-one process against a real influxd,
 * a real MQTT gateway over TCP and real WebSocket clients.
 */
describe('pipeline end to end (all-in-one + influxd)', () => {
  const influxUrl = inject('influxUrl');
  const database = `e2e_${Date.now()}`;
  let hw: SpawnedAll;
  let cement: MqttClient;
  let chem: MqttClient;

  beforeAll(async () => {
    hw = await spawnAll({ HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: database, HW_INGEST_FLUSH_INTERVAL_MS: '50' });
    cement = await connectGateway(hw.mqttPort, 'cement-liguo');
    chem = await connectGateway(hw.mqttPort, 'chem-dawu');
  });
  afterAll(async () => {
    await cement?.endAsync();
    await chem?.endAsync();
    expect(await hw?.stop()).toBe(0);
  });

  async function influxCount(sensor: string): Promise<number> {
    const q = encodeURIComponent(`SELECT count(value) FROM reading WHERE sensor = '${sensor}'`);
    const body = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  }

  it('stores a valid reading in InfluxDB, and answers a malformed one on err while keeping the rest of the batch', async () => {
    const errs: ErrMessage[] = [];
    await cement.subscribeAsync(topics.err('cement-liguo', 'gw1'), { qos: 1 });
    cement.on('message', (topic, payload) => {
      if (topic === topics.err('cement-liguo', 'gw1')) errs.push(JSON.parse(payload.toString()) as ErrMessage);
    });
    const ts = Date.now();
    await cement.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({
      ts,
      readings: [
        { sensor: 'cement-liguo.dust-resp-1', value: 0.42, unit: 'mg/m3' },
        { sensor: 'cement-liguo.dust-total-1', value: 'NaN', unit: 'mg/m3' },
        { sensor: 'cement-liguo.noise-1', value: 82.5, unit: 'dB(A)' },
        { sensor: 'chem-dawu.benzene-1', value: 1, unit: 'mg/m3' },
      ],
    }), { qos: 1 });

    const err = await waitFor(() => errs[0], { what: 'a message on the err topic' });
    expect(err.received).toBe(4);
    expect(err.accepted).toBe(2);
    expect(err.rejected.map((r) => [r.index, r.code])).toEqual([[1, 'HW_ERR_BAD_VALUE'], [3, 'HW_ERR_SENSOR_NOT_OWNED']]);
    expect(err.rejected[0]!.message).toContain('cement-liguo.dust-total-1');

    await waitFor(async () => (await influxCount('cement-liguo.dust-resp-1')) === 1 || undefined, { what: 'the reading in InfluxDB' });
    expect(await influxCount('cement-liguo.noise-1')).toBe(1);
    expect(await influxCount('cement-liguo.dust-total-1')).toBe(0);
    const q = encodeURIComponent(`SELECT value, value_std, unit, enterprise, agent FROM reading WHERE sensor = 'cement-liguo.dust-resp-1'`);
    const body = (await (await fetch(`${influxUrl}/query?db=${database}&epoch=ms&q=${q}`)).json()) as { results: { series: { columns: string[]; values: unknown[][] }[] }[] };
    const row = Object.fromEntries(body.results[0]!.series[0]!.columns.map((c, i) => [c, body.results[0]!.series[0]!.values[0]![i]]));
    expect(row).toMatchObject({ time: ts, value: 0.42, value_std: 0.42, unit: 'mg/m3', enterprise: 'cement-liguo', agent: 'dust.cement.respirable' });
  });

  it('pushes an over-limit alert to the inspector of that township within seconds, and never one from another township', async () => {
    const township = await openSocket(hw.httpPort, await login(hw.httpPort, 'township'));
    const city = await openSocket(hw.httpPort, await login(hw.httpPort, 'city'));
    await waitFor(() => township.messages.find((m) => m.type === 'snapshot'), { what: 'snapshot' });

    // Another township's enterprise (chem-dawu is in Dawu, Jiawang) goes over the H2S MAC: 20 ppm ≈ 28 mg/m3 > 10.
    await chem.publishAsync(topics.up('chem-dawu', 'gw1'), JSON.stringify({ ts: Date.now(), readings: [{ sensor: 'chem-dawu.h2s-1', value: 20, unit: 'ppm' }] }), { qos: 1 });
    // The inspector's own cement plant: respirable cement dust 9 mg/m3 > 5 × PC-TWA 1.5 = 7.5
    // (GBZ 2.1-2019 peak excursion, never above 5 × PC-TWA): red.
    const sentAt = Date.now();
    await cement.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: sentAt, readings: [{ sensor: 'cement-liguo.dust-resp-1', value: 9, unit: 'mg/m3' }] }), { qos: 1 });

    const mine = await waitFor(() => township.messages.find((m) => m.type === 'alert' && m.event.alert.sensorId === 'cement-liguo.dust-resp-1' && m.event.alert.rule === 'peak'), { timeoutMs: 5000, what: 'the dust alert on the township socket' });
    if (mine.type !== 'alert') throw new Error('unreachable');
    expect(mine.event.kind).toBe('raised');
    expect(mine.event.alert.level).toBe('red');
    expect(mine.event.alert.reason).toMatchObject({ value: 9, limit: 7.5, unit: 'mg/m3' });
    expect(mine.receivedAt - sentAt).toBeLessThan(5000);

    // SO2 12 mg/m3 is above PC-STEL 10 but a single reading is not a 15-min exposure:
    // it raises the blue early warning, which says when the STEL would be passed.
    const so2At = Date.now() + 1;
    await cement.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: so2At, readings: [{ sensor: 'cement-liguo.so2-1', value: 12, unit: 'mg/m3' }] }), { qos: 1 });
    // (It may also raise forecast-twa, depending on how much of the shift is left.)
    const warn = await waitFor(() => township.messages.find((m) => m.type === 'alert' && m.event.alert.sensorId === 'cement-liguo.so2-1' && m.event.alert.rule === 'forecast-stel'), { timeoutMs: 5000, what: 'the SO2 STEL early warning' });
    if (warn.type !== 'alert') throw new Error('unreachable');
    expect(warn.event.alert).toMatchObject({ level: 'blue', rule: 'forecast-stel', reason: { limit: 10, unit: 'mg/m3' } });
    // 12 held: the 15-min mean passes 10 after 12.5 min (10 × 15 / 12), found on a 30-s grid.
    expect(warn.event.alert.reason.expectedAt! - so2At).toBeGreaterThanOrEqual(12.5 * 60_000);
    expect(warn.event.alert.reason.expectedAt! - so2At).toBeLessThanOrEqual(13 * 60_000);

    // The city regulator sees both, which proves the H2S alert was raised and pushed.
    await waitFor(() => city.messages.find((m) => m.type === 'alert' && m.event.alert.sensorId === 'chem-dawu.h2s-1'), { what: 'the H2S alert on the city socket' });
    await new Promise((r) => setTimeout(r, 300));
    const leaked = township.messages.filter((m) => m.type === 'alert' && m.event.alert.enterpriseId !== 'cement-liguo' && m.event.alert.enterpriseId !== 'foundry-liguo');
    expect(leaked).toEqual([]);

    // And the REST view agrees with the socket.
    const res = await fetch(`http://127.0.0.1:${hw.httpPort}/api/alerts?state=active`, { headers: { authorization: `Bearer ${await login(hw.httpPort, 'township')}` } });
    const alerts = (await res.json()) as { sensorId: string }[];
    expect(alerts.map((a) => a.sensorId)).toContain('cement-liguo.dust-resp-1');
    expect(alerts.map((a) => a.sensorId)).not.toContain('chem-dawu.h2s-1');
    township.close();
    city.close();
  });

  it('refuses wrong gateway credentials with CONNACK "bad username or password"', async () => {
    const err = await connectGateway(hw.mqttPort, 'cement-liguo', 'gw1', 'not-the-secret').then(
      (c) => {
        void c.endAsync();
        return undefined;
      },
      (e: Error & { code?: number }) => e,
    );
    expect(err).toBeDefined();
    expect(err!.code).toBe(4);
    const unknown = await connectGateway(hw.mqttPort, 'no-such-enterprise', 'gw1', 'x').catch((e: Error & { code?: number }) => e);
    expect((unknown as { code?: number }).code).toBe(4);
  });

  it('reports every component healthy', async () => {
    const res = await fetch(`http://127.0.0.1:${hw.httpPort}/api/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { components: Record<string, { ok: boolean; detail?: string }> };
    expect(Object.keys(body.components).sort()).toEqual(['api', 'broker', 'ingest', 'rules', 'spool', 'store']);
    expect(Object.values(body.components).every((c) => c.ok)).toBe(true);
    expect(body.components.store!.detail).toContain('influxdb 1.');
  });
});
