import mqtt, { type MqttClient } from 'mqtt';
import type { Catalogue } from '../../core/src/agents.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import { topics } from '../../core/src/topics.ts';
import { levelsFor, toSensorUnit } from './levels.ts';

export interface GatewaySimOptions {
  url: string;
  enterpriseId: string;
  gatewayId: string;
  secret: string;
  sensors: SensorEntry[];
  intervalMs: number;
  catalogue: Catalogue;
  logger: Logger;
  random?: () => number;
}

interface Incident {
  sensorId: string;
  startMs: number;
  rampMs: number;
  holdMs: number;
}

/**
 * One simulated enterprise gateway: connects with its own credentials, announces itself
 * on the retained status topic with a last will, and publishes a JSON batch of all its
 * sensors every interval. Incidents ramp one sensor past its limit and back.
 */
export function createGatewaySim(opts: GatewaySimOptions) {
  const rnd = opts.random ?? Math.random;
  let client: MqttClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  const incidents: Incident[] = [];
  let published = 0;
  const log = opts.logger.child({ module: 'simulator', gateway: `${opts.enterpriseId}/${opts.gatewayId}` });
  const molarVolumeL = opts.catalogue.profiles.get(opts.sensors[0]?.profileId ?? '')?.molarVolumeL ?? 24.04;

  const valueAt = (s: SensorEntry, t: number) => {
    const lv = levelsFor(s, opts.catalogue);
    let v = lv.base + (rnd() - 0.5) * 2 * lv.noise;
    for (const inc of incidents) {
      if (inc.sensorId !== s.id) continue;
      const dt = t - inc.startMs;
      const shape = dt < 0 ? 0 : dt < inc.rampMs ? dt / inc.rampMs : dt < inc.rampMs + inc.holdMs ? 1 : Math.max(0, 1 - (dt - inc.rampMs - inc.holdMs) / inc.rampMs);
      v += shape * (lv.incident - lv.base);
    }
    const inUnit = toSensorUnit(Math.max(0, v), s, molarVolumeL);
    return Math.min(s.max, Math.max(s.min, Math.round(inUnit * 1000) / 1000));
  };

  const tick = () => {
    const t = Date.now();
    while (incidents[0] && t - incidents[0].startMs > 2 * incidents[0].rampMs + incidents[0].holdMs) incidents.shift();
    const payload = { ts: t, readings: opts.sensors.map((s) => ({ sensor: s.id, value: valueAt(s, t), unit: s.unit })) };
    client?.publish(topics.up(opts.enterpriseId, opts.gatewayId), JSON.stringify(payload), { qos: 1 }, (err) => {
      if (err) log.debug({ err: err.message }, 'publish failed');
      else published++;
    });
  };

  return {
    get published() {
      return published;
    },
    /** Start an incident on a sensor (default: a random one). */
    incident(sensorId = opts.sensors[Math.floor(rnd() * opts.sensors.length)]?.id, rampMs = 8000, holdMs = 20_000) {
      if (sensorId) incidents.push({ sensorId, startMs: Date.now(), rampMs, holdMs });
      return sensorId;
    },
    async start() {
      const statusTopic = topics.status(opts.enterpriseId, opts.gatewayId);
      client = await mqtt.connectAsync(opts.url, {
        username: `${opts.enterpriseId}/${opts.gatewayId}`,
        password: opts.secret,
        clientId: `${opts.enterpriseId}.${opts.gatewayId}.sim`,
        clean: true,
        reconnectPeriod: 2000,
        will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
      await client.publishAsync(statusTopic, 'online', { qos: 1, retain: true });
      timer = setInterval(tick, opts.intervalMs);
      tick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (client) {
        await client.publishAsync(topics.status(opts.enterpriseId, opts.gatewayId), 'offline', { qos: 1, retain: true }).catch(() => {});
        await client.endAsync();
      }
    },
  };
}

export type GatewaySim = ReturnType<typeof createGatewaySim>;
