import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import WebSocket from 'ws';
import { startTopology, TOPOLOGIES, type RunningTopology } from '../topologies.ts';
import { connectGateway, login, openSocket } from '../clients.ts';
import { waitFor } from '../ports.ts';
import { topics } from '../../core/src/topics.ts';
import type { ErrMessage } from '../../ingest/src/ingest-worker.ts';
import type { Alert } from '../../core/src/types.ts';
import type { ServerMessage } from '../../core/src/ws-messages.ts';
import { compareIds } from '../../core/src/streams/stream-entry.ts';

type Msg = ServerMessage & { receivedAt: number };
type AlertMsg = Extract<ServerMessage, { type: 'alert' }>;
const isAlert = (m: Msg): m is Msg & AlertMsg => m.type === 'alert';

/**
 * The walking skeleton end to end, in both topologies built from one wiring table
 * (cli/compose.ts, issue 13 item 3): the all-in-one (`hazardwatch all`), and the split
 * services of docker-compose.yml (a broker, two ingest shards, rules, api talking over
 * MQTT), each against a real influxd, a real MQTT gateway over TCP and real WebSocket
 * clients, with the same assertions. One topology per describe block; the cases run in
 * order and build on each other's alerts (the API restart is last).
 */
describe.each(TOPOLOGIES)('pipeline end to end (%s + influxd)', (name) => {
  const influxUrl = inject('influxUrl');
  const database = `e2e_${name}_${Date.now()}`;
  let topo: RunningTopology;
  let cement: MqttClient;
  let chem: MqttClient;

  beforeAll(async () => {
    topo = await startTopology(name, { influxUrl, database });
    cement = await connectGateway(topo.mqttPort, 'cement-liguo');
    chem = await connectGateway(topo.mqttPort, 'chem-dawu');
  });
  afterAll(async () => {
    await cement?.endAsync(true);
    await chem?.endAsync(true);
    if (!topo) return;
    // Every process exits 0 on SIGTERM.
    const codes = await topo.stop();
    expect(codes).toEqual(codes.map(() => 0));
  });

  async function influxCount(sensor: string): Promise<number> {
    const q = encodeURIComponent(`SELECT count(value) FROM reading WHERE sensor = '${sensor}'`);
    const body = (await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
    return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
  }
  const getJson = async <T>(token: string, path: string): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${topo.httpPort}${path}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as T;
  };
  const post = (token: string, path: string, body: unknown) => fetch(`http://127.0.0.1:${topo.httpPort}${path}`, {
    method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const activeAlert = (token: string, sensorId: string, rule: string) => async () =>
    (await getJson<Alert[]>(token, '/api/alerts')).find((a) => a.sensorId === sensorId && a.rule === rule && a.state !== 'cleared');
  const alertOn = (messages: Msg[], sensorId: string, rule: string, kind = 'raised') => () =>
    messages.find((m): m is Msg & AlertMsg => isAlert(m) && m.event.alert.sensorId === sensorId && m.event.alert.rule === rule && m.event.kind === kind);

  it('stores a valid reading in InfluxDB once, and answers a malformed one on err while keeping the rest of the batch', async () => {
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
    const series = body.results[0]!.series[0]!;
    // One row: two ingest shards (services) never both store a gateway's message.
    expect(series.values).toHaveLength(1);
    const row = Object.fromEntries(series.columns.map((c, i) => [c, series.values[0]![i]]));
    expect(row).toMatchObject({ time: ts, value: 0.42, value_std: 0.42, unit: 'mg/m3', enterprise: 'cement-liguo', agent: 'dust.cement.respirable' });
  });

  it('pushes an over-limit alert to the inspector of that township within seconds, and never one from another township', async () => {
    const township = await openSocket(topo.httpPort, await login(topo.httpPort, 'township'));
    const city = await openSocket(topo.httpPort, await login(topo.httpPort, 'city'));
    await waitFor(() => township.messages.find((m) => m.type === 'snapshot'), { what: 'snapshot' });

    // Another township's enterprise (chem-dawu is in Dawu, Jiawang) goes over the H2S MAC: 20 ppm ≈ 28 mg/m3 > 10.
    await chem.publishAsync(topics.up('chem-dawu', 'gw1'), JSON.stringify({ ts: Date.now(), readings: [{ sensor: 'chem-dawu.h2s-1', value: 20, unit: 'ppm' }] }), { qos: 1 });
    // The inspector's own cement plant: respirable cement dust 9 mg/m3 > 5 × PC-TWA 1.5 = 7.5
    // (GBZ 2.1-2019 peak excursion, never above 5 × PC-TWA): red.
    const sentAt = Date.now();
    await cement.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: sentAt, readings: [{ sensor: 'cement-liguo.dust-resp-1', value: 9, unit: 'mg/m3' }] }), { qos: 1 });

    const mine = await waitFor(alertOn(township.messages, 'cement-liguo.dust-resp-1', 'peak'), { timeoutMs: 5000, what: 'the dust alert on the township socket' });
    expect(mine.event.kind).toBe('raised');
    expect(mine.event.alert.level).toBe('red');
    expect(mine.event.alert.reason).toMatchObject({ value: 9, limit: 7.5, unit: 'mg/m3' });
    expect(mine.receivedAt - sentAt).toBeLessThan(5000);

    // SO2 12 mg/m3 is above PC-STEL 10 but a single reading is not a 15-min exposure:
    // it raises the blue early warning, which says when the STEL would be passed.
    const so2At = Date.now() + 1;
    await cement.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: so2At, readings: [{ sensor: 'cement-liguo.so2-1', value: 12, unit: 'mg/m3' }] }), { qos: 1 });
    // (It may also raise forecast-twa, depending on how much of the shift is left.)
    const warn = await waitFor(alertOn(township.messages, 'cement-liguo.so2-1', 'forecast-stel'), { timeoutMs: 5000, what: 'the SO2 STEL early warning' });
    expect(warn.event.alert).toMatchObject({ level: 'blue', rule: 'forecast-stel', reason: { limit: 10, unit: 'mg/m3' } });
    // 12 held: the 15-min mean passes 10 after 12.5 min (10 × 15 / 12), found on a 30-s grid.
    expect(warn.event.alert.reason.expectedAt! - so2At).toBeGreaterThanOrEqual(12.5 * 60_000);
    expect(warn.event.alert.reason.expectedAt! - so2At).toBeLessThanOrEqual(13 * 60_000);

    // The city regulator sees both, which proves the H2S alert was raised and pushed.
    await waitFor(() => city.messages.find((m) => isAlert(m) && m.event.alert.sensorId === 'chem-dawu.h2s-1'), { what: 'the H2S alert on the city socket' });
    await new Promise((r) => setTimeout(r, 300));
    const leaked = township.messages.filter((m) => isAlert(m) && m.event.alert.enterpriseId !== 'cement-liguo' && m.event.alert.enterpriseId !== 'foundry-liguo');
    expect(leaked).toEqual([]);

    // And the REST view agrees with the socket.
    const alerts = await getJson<Alert[]>(await login(topo.httpPort, 'township'), '/api/alerts?state=active');
    expect(alerts.map((a) => a.sensorId)).toContain('cement-liguo.dust-resp-1');
    expect(alerts.map((a) => a.sensorId)).not.toContain('chem-dawu.h2s-1');
    township.close();
    city.close();
  });

  it('routes an acknowledgement to the rules engine and pushes the acknowledged event back over the WebSocket', async () => {
    const token = await login(topo.httpPort, 'township');
    const sock = await openSocket(topo.httpPort, token);
    const snap = await waitFor(() => sock.messages.find((m): m is Msg & Extract<ServerMessage, { type: 'snapshot' }> => m.type === 'snapshot'), { what: 'snapshot' });
    const dust = snap.alerts.find((a) => a.sensorId === 'cement-liguo.dust-resp-1' && a.rule === 'peak');
    expect(dust?.state).toBe('open');

    const res = await post(token, `/api/alerts/${encodeURIComponent(dust!.id)}/ack`, { note: 'ventilation on' });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Alert)).toMatchObject({ id: dust!.id, state: 'acknowledged', ackBy: 'township' });
    const pushed = await waitFor(() => sock.messages.find((m): m is Msg & AlertMsg => isAlert(m) && m.event.alertId === dust!.id && m.event.kind === 'acknowledged'), { what: 'the acknowledged event on the socket' });
    expect(pushed.event.alert.state).toBe('acknowledged');
    expect(compareIds(pushed.eventId, snap.lastEventId)).toBeGreaterThan(0);
    // Acknowledging twice is refused by the rules engine's state, wherever it runs.
    expect((await post(token, `/api/alerts/${encodeURIComponent(dust!.id)}/ack`, {})).status).toBe(409);
    sock.close();
  });

  it('replays the events a WebSocket client missed when it reconnects with since, without a snapshot', async () => {
    const token = await login(topo.httpPort, 'city');
    // A second client stays connected, to know when the missed event has reached the API.
    const watcher = await openSocket(topo.httpPort, token);
    const away = await openSocket(topo.httpPort, token);
    const snap = await waitFor(() => away.messages.find((m): m is Msg & Extract<ServerMessage, { type: 'snapshot' }> => m.type === 'snapshot'), { what: 'snapshot' });
    expect(compareIds(snap.lastEventId, '0-0')).toBeGreaterThan(0);
    const h2s = snap.alerts.find((a) => a.sensorId === 'chem-dawu.h2s-1' && a.rule === 'mac');
    expect(h2s).toBeDefined();
    away.close();

    expect((await post(token, `/api/alerts/${encodeURIComponent(h2s!.id)}/comment`, { note: 'enterprise called' })).status).toBe(200);
    const live = await waitFor(() => watcher.messages.find((m): m is Msg & AlertMsg => isAlert(m) && m.event.alertId === h2s!.id && m.event.kind === 'commented'), { what: 'the comment event on the connected socket' });

    const back = await openSocket(topo.httpPort, token, snap.lastEventId);
    const replayed = await waitFor(() => back.messages.find((m): m is Msg & AlertMsg => isAlert(m) && m.event.alertId === h2s!.id && m.event.kind === 'commented'), { what: 'the missed comment replayed' });
    expect(replayed.eventId).toBe(live.eventId);
    expect(replayed.event).toEqual(live.event);
    const hello = back.messages[0]!;
    expect(hello.type === 'hello' && compareIds(hello.lastEventId, live.eventId)).toBeGreaterThanOrEqual(0);
    // Every replayed event is after since, once each, and no snapshot replaces them.
    const ids = back.messages.filter(isAlert).map((m) => m.eventId);
    expect(ids.every((id) => compareIds(id, snap.lastEventId) > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(back.messages.some((m) => m.type === 'snapshot')).toBe(false);
    watcher.close();
    back.close();
  });

  it('raises gateway-offline when a gateway disconnects, and clears it when the gateway is back (presence)', async () => {
    const token = await login(topo.httpPort, 'city');
    const gw = await connectGateway(topo.mqttPort, 'coal-liuxin');
    await gw.endAsync();
    const offline = await waitFor(activeAlert(token, 'gateway:coal-liuxin/gw1', 'gateway-offline'), { what: 'gateway-offline alert in the API' });
    expect(offline).toMatchObject({ enterpriseId: 'coal-liuxin', gatewayId: 'gw1', level: 'yellow' });
    const again = await connectGateway(topo.mqttPort, 'coal-liuxin');
    await waitFor(async () => ((await activeAlert(token, 'gateway:coal-liuxin/gw1', 'gateway-offline')()) ? undefined : true), { what: 'gateway-offline cleared' });
    await again.endAsync();
  });

  it('raises fault-out-of-range from readings ingest refused as outside the sensor range', async () => {
    const token = await login(topo.httpPort, 'city');
    const gw = await connectGateway(topo.mqttPort, 'cement-liguo', 'gw1');
    const t0 = Date.now() - 60_000;
    // dust-total-1 measures 0–500 mg/m3 (examples/registry.yaml): ten readings outside it within 10 min are a fault.
    for (let i = 0; i < 10; i++) {
      await gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: t0 + i * 1000, readings: [{ sensor: 'cement-liguo.dust-total-1', value: 9999, unit: 'mg/m3' }] }), { qos: 1 });
    }
    await waitFor(activeAlert(token, 'cement-liguo.dust-total-1', 'fault-out-of-range'), { what: 'fault-out-of-range alert in the API' });
    expect(await influxCount('cement-liguo.dust-total-1')).toBe(0);
    await gw.endAsync();
  });

  it('shows GBZ/T 229 grades and live exposure in /api/sensors and /api/enterprises', async () => {
    const token = await login(topo.httpPort, 'city');
    // dust-resp-1 has the earlier cases' readings (split: the rules service sends its insights within 2 s).
    const sensor = await waitFor(async () => (await getJson<{ id: string; grade: { grade: number } | null; exposure: { sensorId: string; twa8h: number } | null }[]>(token, '/api/sensors?enterprise=cement-liguo')).find((s) => s.id === 'cement-liguo.dust-resp-1' && s.grade !== null && s.exposure !== null), { what: 'grade and exposure of dust-resp-1 in /api/sensors' });
    expect(sensor.exposure!.sensorId).toBe('cement-liguo.dust-resp-1');
    expect(sensor.exposure!.twa8h).toBeGreaterThan(0);
    expect(sensor.grade!.grade).toBeGreaterThanOrEqual(0);
    const ent = await waitFor(async () => (await getJson<{ id: string; grade: number | null }[]>(token, '/api/enterprises')).find((e) => e.id === 'cement-liguo' && e.grade !== null), { what: 'enterprise grade in /api/enterprises' });
    // The enterprise grade is its worst point's.
    expect(ent.grade).toBeGreaterThanOrEqual(sensor.grade!.grade);
  });

  it('refuses wrong gateway credentials with CONNACK "bad username or password"', async () => {
    const err = await connectGateway(topo.mqttPort, 'cement-liguo', 'gw1', 'not-the-secret').then(
      (c) => {
        void c.endAsync();
        return undefined;
      },
      (e: Error & { code?: number }) => e,
    );
    expect(err).toBeDefined();
    expect(err!.code).toBe(4);
    const unknown = await connectGateway(topo.mqttPort, 'no-such-enterprise', 'gw1', 'x').catch((e: Error & { code?: number }) => e);
    expect((unknown as { code?: number }).code).toBe(4);
  });

  it('reports every component healthy', async () => {
    // Split, the API learns the other services' health from their reports (every 500 ms here).
    const body = await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${topo.httpPort}/api/health`);
      return res.status === 200 ? ((await res.json()) as { components: Record<string, { ok: boolean; detail?: string }> }) : undefined;
    }, { what: 'health 200' });
    expect(Object.keys(body.components).sort()).toEqual(['api', 'broker', 'ingest', 'rules', 'spool', 'store']);
    expect(Object.values(body.components).every((c) => c.ok)).toBe(true);
    expect(body.components.store!.detail).toContain('influxdb 1.');
  });

  // Split, sessions and alert events live in Redis: the same token and the same event ids
  // work after the API restarts (and on any replica). In one process they live in the
  // process: users log in again, and a board that comes back with an old id gets a snapshot.
  it(name === 'services'
    ? 'after an API restart the session holds and a socket that comes back with since gets exactly what it missed'
    : 'after a restart the old session is refused and a socket that comes back with an old since gets a snapshot of the active alerts', async () => {
    const oldToken = await login(topo.httpPort, 'city');
    const before = await openSocket(topo.httpPort, oldToken);
    const snap = await waitFor(() => before.messages.find((m): m is Msg & Extract<ServerMessage, { type: 'snapshot' }> => m.type === 'snapshot'), { what: 'snapshot before the restart' });
    const kept = snap.alerts.filter((a) => (a.sensorId === 'cement-liguo.dust-resp-1' && a.rule === 'peak') || (a.sensorId === 'chem-dawu.h2s-1' && a.rule === 'mac')).map((a) => a.id);
    expect(kept).toHaveLength(2);
    before.close();

    await topo.restartApi();

    const rest = await fetch(`http://127.0.0.1:${topo.httpPort}/api/alerts`, { headers: { authorization: `Bearer ${oldToken}` } });
    if (name === 'services') {
      expect(rest.status).toBe(200);
      // A comment made after the restart, then a socket that resumes from before it.
      expect((await post(oldToken, `/api/alerts/${encodeURIComponent(kept[1]!)}/comment`, { note: 'after the restart' })).status).toBe(200);
      const back = await openSocket(topo.httpPort, oldToken, snap.lastEventId);
      const got = await waitFor(() => back.messages.find((m): m is Msg & AlertMsg => isAlert(m) && m.event.alertId === kept[1] && m.event.kind === 'commented' && m.event.note === 'after the restart'), { what: 'the missed comment replayed after the restart' });
      expect(compareIds(got.eventId, snap.lastEventId)).toBeGreaterThan(0);
      const ids = back.messages.filter(isAlert).map((m) => m.eventId);
      expect(ids.every((id) => compareIds(id, snap.lastEventId) > 0)).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      expect(back.messages.some((m) => m.type === 'snapshot')).toBe(false);
      back.close();
      return;
    }
    // Users log in again: the old token is refused on REST and on the socket.
    expect(rest.status).toBe(401);
    const stale = await openSocket(topo.httpPort, oldToken);
    await waitFor(() => stale.ws.readyState === WebSocket.CLOSED || undefined, { what: 'the socket of the old session closed' });
    expect(stale.messages.map((m) => m.type === 'error' && m.code)).toEqual(['HW_ERR_UNAUTHENTICATED']);
    // The old id is unknown to the new process: a snapshot, not a partial replay.
    const token = await login(topo.httpPort, 'city');
    const fresh = await openSocket(topo.httpPort, token, snap.lastEventId);
    const after = await waitFor(() => fresh.messages.find((m): m is Msg & Extract<ServerMessage, { type: 'snapshot' }> => m.type === 'snapshot'), { what: 'snapshot after the restart' });
    expect(after.alerts.map((a) => a.id)).toEqual(expect.arrayContaining(kept));
    fresh.close();
  });
});
