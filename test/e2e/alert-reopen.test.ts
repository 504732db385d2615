import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../core/src/topics.ts';
import type { Alert } from '../../core/src/types.ts';
import { connectGateway, login, openSocket } from '../clients.ts';
import { waitFor } from '../ports.ts';
import { spawnAll, type SpawnedHw } from '../spawn-all.ts';
import { startServices, type RunningServices } from '../topologies.ts';

/**
 * Issue 12 item 1, end to end: a real gateway over MQTT, the real all-in-one, a real
 * WebSocket client, in both topologies. An acknowledged yellow alert that goes red is
 * pushed as open again (what the board's red banner counts) and takes a new acknowledgement.
 */

/** The scenario, against whichever topology serves `httpPort` with a gateway `gw` of coal-liuxin. */
async function ackThenWorse(httpPort: number, gw: MqttClient) {
  const token = await login(httpPort, 'city');
  const sock = await openSocket(httpPort, token);
  const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const macEvents = () => sock.messages.flatMap((m) => (m.type === 'alert' && m.event.alert.sensorId === 'coal-liuxin.h2s-1' && m.event.alert.rule === 'mac' ? [m.event] : []));
  const send = (ppm: number) => gw.publishAsync(topics.up('coal-liuxin', 'gw1'), JSON.stringify({ ts: Date.now(), readings: [{ sensor: 'coal-liuxin.h2s-1', value: ppm, unit: 'ppm' }] }), { qos: 1 });

  // 4 ppm ≈ 5.7 mg/m3: at or above the action level ½ MAC (5 mg/m3, GBZ 2.1-2019 MAC 10): yellow.
  await send(4);
  const raised = await waitFor(() => macEvents().find((e) => e.kind === 'raised'), { what: 'the yellow H2S alert on the socket' });
  expect(raised.alert).toMatchObject({ level: 'yellow', state: 'open' });
  const url = `http://127.0.0.1:${httpPort}/api/alerts/${encodeURIComponent(raised.alertId)}`;

  const ack = await fetch(`${url}/ack`, { method: 'POST', headers: auth, body: JSON.stringify({ note: 'ventilation on' }) });
  expect(ack.status).toBe(200);
  await waitFor(() => macEvents().find((e) => e.kind === 'acknowledged'), { what: 'the acknowledgement on the socket' });

  // 10 ppm ≈ 14.2 mg/m3 > MAC 10: red, and open again.
  await send(10);
  const up = await waitFor(() => macEvents().find((e) => e.kind === 'escalated'), { what: 'the escalation on the socket' });
  expect(up.alertId).toBe(raised.alertId);
  expect(up.alert).toMatchObject({ level: 'red', state: 'open' });
  expect(up.alert.ackBy).toBeUndefined();

  // The REST view agrees: open, red, among the open alerts, with the whole history.
  const one = (await (await fetch(url, { headers: auth })).json()) as { alert: Alert; events: { kind: string; alert: Alert }[] };
  expect(one.alert).toMatchObject({ level: 'red', state: 'open' });
  expect(one.events.map((e) => [e.kind, e.alert.state])).toEqual([['raised', 'open'], ['acknowledged', 'acknowledged'], ['escalated', 'open']]);
  const open = (await (await fetch(`http://127.0.0.1:${httpPort}/api/alerts?state=open&level=red`, { headers: auth })).json()) as Alert[];
  expect(open.map((a) => a.id)).toContain(raised.alertId);

  // A fresh board (snapshot) also shows it open.
  const fresh = await openSocket(httpPort, token);
  const snap = await waitFor(() => fresh.messages.find((m) => m.type === 'snapshot'), { what: 'snapshot' });
  if (snap.type !== 'snapshot') throw new Error('unreachable');
  expect(snap.alerts.find((a) => a.id === raised.alertId)).toMatchObject({ level: 'red', state: 'open' });

  // It takes a new acknowledgement.
  const again = await fetch(`${url}/ack`, { method: 'POST', headers: auth, body: JSON.stringify({ note: 'evacuated' }) });
  expect(again.status).toBe(200);
  expect((await again.json()) as Alert).toMatchObject({ state: 'acknowledged', level: 'red', ackNote: 'evacuated' });
  sock.close();
  fresh.close();
}

describe('acknowledged, then worse: all-in-one', () => {
  let hw: SpawnedHw;
  let gw: MqttClient;
  beforeAll(async () => {
    hw = await spawnAll();
    gw = await connectGateway(hw.ready.mqttPort as number, 'coal-liuxin');
  });
  afterAll(async () => {
    await gw?.endAsync();
    expect(await hw?.stop()).toBe(0);
  });
  it('an acknowledged H2S alert that passes the MAC is pushed as open and red, and needs a new acknowledgement', () => ackThenWorse(hw.ready.httpPort as number, gw));
});

describe('acknowledged, then worse: separate processes (broker, ingest, rules, api)', () => {
  let topo: RunningServices;
  let gw: MqttClient;
  beforeAll(async () => {
    topo = await startServices({ influxUrl: inject('influxUrl'), database: `reopen_${Date.now()}` });
    gw = await connectGateway(topo.mqttPort, 'coal-liuxin');
  });
  afterAll(async () => {
    await gw?.endAsync();
    for (const c of await topo.stop()) expect(c).toBe(0);
  });
  it('the same, with the escalation travelling rules → Redis → api', () => ackThenWorse(topo.httpPort, gw));

  it('answers a command 503 HW_ERR_RULES_UNAVAILABLE at once while the rules worker owning the alert is down, and runs it once the worker is back', async () => {
    const token = await login(topo.httpPort, 'city');
    const auth = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const alerts = (await (await fetch(`http://127.0.0.1:${topo.httpPort}/api/alerts?state=active`, { headers: auth })).json()) as Alert[];
    const h2s = alerts.find((a) => a.sensorId === 'coal-liuxin.h2s-1' && a.rule === 'mac')!;
    expect(h2s).toBeDefined();
    const comment = (note: string) => fetch(`http://127.0.0.1:${topo.httpPort}/api/alerts/${encodeURIComponent(h2s.id)}/comment`, { method: 'POST', headers: auth, body: JSON.stringify({ note }) });
    for (const r of topo.processes.rules) await r.stop('SIGKILL');
    const refused = await comment('while rules is down');
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as { code: string }).code).toBe('HW_ERR_RULES_UNAVAILABLE');
    for (let k = 0; k < topo.processes.rules.length; k++) await topo.processes.restart('rules', k);
    const ok = await waitFor(async () => {
      const r = await comment('rules is back');
      return r.status === 200 ? r : undefined;
    }, { what: 'the comment accepted once the worker is back' });
    expect(((await ok.json()) as Alert).id).toBe(h2s.id);
  });
});
