import { describe, expect, inject, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../clients.ts';
import { freePort, waitFor } from '../ports.ts';
import { spawnHw } from '../spawn-all.ts';

/**
 * Issue 13: in the all-in-one the broker listened before ingest's hook was set, so a
 * gateway's backlog sent right after a restart could be PUBACKed without reaching the
 * spool. The broker now starts last: every reading acknowledged at any moment of start-up is stored.
 */
describe('publishing during all-in-one start-up', () => {
  const influxUrl = inject('influxUrl');
  const database = `startup_${Date.now()}`;

  it('stores every reading the broker acknowledged, from the moment its MQTT port accepts', async () => {
    const mqttPort = await freePort();
    const sensor = 'cement-liguo.dust-total-1';
    let acked = 0;
    let stop = false;
    // The gateway: connect as soon as the port accepts, then publish one reading per message until told to stop.
    const gateway = (async () => {
      let gw: MqttClient | undefined;
      const deadline = Date.now() + 60_000;
      while (!gw && Date.now() < deadline) {
        gw = await connectGateway(mqttPort, 'cement-liguo').catch(() => undefined);
        if (!gw) await new Promise((r) => setTimeout(r, 5));
      }
      if (!gw) throw new Error('the MQTT port never accepted');
      const t0 = Date.now();
      for (let i = 0; !stop && i < 20_000; i++) {
        await gw.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ ts: t0 + i, readings: [{ sensor, value: 0.5, unit: 'mg/m3' }] }), { qos: 1 });
        acked++;
      }
      await gw.endAsync();
    })();
    const hw = await spawnHw(['all'], { HW_MQTT_PORT: String(mqttPort), HW_INFLUX_URL: influxUrl, HW_INFLUX_DATABASE: database, HW_INGEST_FLUSH_INTERVAL_MS: '50' });
    try {
      const atReady = acked;
      // Count-driven: go on until 50 more messages are acknowledged after ready.
      await waitFor(() => acked >= atReady + 50 || undefined, { what: '50 acknowledgements after ready' });
      stop = true;
      await gateway;
      expect(acked).toBeGreaterThan(atReady);
      const q = encodeURIComponent(`SELECT count(value) FROM reading WHERE sensor = '${sensor}'`);
      const count = async () => ((await (await fetch(`${influxUrl}/query?db=${database}&q=${q}`)).json()) as { results: { series?: { values: [string, number][] }[] }[] }).results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
      await waitFor(async () => ((await count()) >= acked ? true : undefined), { what: `${acked} acknowledged readings stored` }).catch(() => undefined);
      process.stderr.write(`start-up publish: ${atReady} acknowledged before ready, ${acked} in all, ${await count()} stored\n`);
      expect(await count()).toBe(acked);
    } finally {
      stop = true;
      await gateway.catch(() => {});
      expect(await hw.stop()).toBe(0);
    }
  });
});
