import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../core/src/topics.ts';
import type { Alert } from '../../core/src/types.ts';
import { connectGateway, login, openSocket } from '../clients.ts';
import { waitFor } from '../ports.ts';
import { spawnAll, type SpawnedAll } from '../spawn-all.ts';

/**
 * Issue 12 item 5: radon end to end. A real gateway publishes over MQTT to the real
 * all-in-one; the rules engine compares the running mean with the GBZ profile's radon
 * reference level (1000 Bq/m3, GB 18871-2002 Annex H / IAEA GSR Part 3 para 5.27) and the
 * alert reaches the API's WebSocket and REST view.
 */
describe('radon end to end (MQTT → ingest → rules → API)', () => {
  let hw: SpawnedAll;
  let gw: MqttClient;
  beforeAll(async () => {
    hw = await spawnAll();
    gw = await connectGateway(hw.mqttPort, 'buildmat-liuxin');
  });
  afterAll(async () => {
    await gw?.endAsync();
    expect(await hw?.stop()).toBe(0);
  });

  it('a radon level above the reference raises radon-mean (orange) with its source, pushed and listed', async () => {
    const token = await login(hw.httpPort, 'district');
    const sock = await openSocket(hw.httpPort, token);
    const radon = (level: string) => sock.messages.find((m) => m.type === 'alert' && m.event.alert.sensorId === 'buildmat-liuxin.radon-1' && m.event.alert.rule === 'radon-mean' && m.event.alert.level === level);
    const t = Date.now();
    const send = (dtMs: number, bq: number) => gw.publishAsync(topics.up('buildmat-liuxin', 'gw1'), JSON.stringify({ ts: t + dtMs, readings: [{ sensor: 'buildmat-liuxin.radon-1', value: bq, unit: 'Bq/m3' }] }), { qos: 1 });
    // Radon limits are means, never a spot value: a reading counts once it has held (the
    // running mean over the measured time). 600 Bq/m3 for 2 s: at or above ½ reference (500): yellow.
    await send(0, 600);
    await send(2000, 600);
    const yellow = await waitFor(() => radon('yellow'), { what: 'the yellow radon alert' });
    if (yellow.type !== 'alert') throw new Error('unreachable');
    expect(yellow.event.alert.reason).toMatchObject({ metric: 'running mean', value: 600, limit: 500, unit: 'Bq/m3' });
    // Then 3000 Bq/m3 for 2 s: the mean over the 6 s measured is (600 × 4 + 3000 × 2) / 6 = 1400 > 1000: orange.
    await send(4000, 3000);
    await send(6000, 3000);
    const orange = await waitFor(() => radon('orange'), { what: 'the orange radon alert' });
    if (orange.type !== 'alert') throw new Error('unreachable');
    expect(orange.event.kind).toBe('escalated');
    expect(orange.event.alert.reason.limit).toBe(1000);
    expect(orange.event.alert.reason.value).toBeCloseTo(1400, 6);
    expect(orange.event.alert.reason.source).toContain('GB 18871-2002');

    const res = await fetch(`http://127.0.0.1:${hw.httpPort}/api/alerts?state=active&agent=radon`, { headers: { authorization: `Bearer ${token}` } });
    const alerts = (await res.json()) as Alert[];
    expect(alerts.find((a) => a.sensorId === 'buildmat-liuxin.radon-1' && a.rule === 'radon-mean')).toMatchObject({ level: 'orange', state: 'open' });
    sock.close();
  });
});
