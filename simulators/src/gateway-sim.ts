import mqtt, { type MqttClient } from 'mqtt';
import type { Catalogue } from '../../core/src/agents.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import { topics } from '../../core/src/topics.ts';
import { MALFORMED_PAYLOADS, NO_FAULTS, type FaultRates } from './faults.ts';
import { baseLevel, limitsOf, toSensorUnit } from './levels.ts';
import { industryOf } from './profiles.ts';
import { SCENARIOS, scenarioFor, type ScenarioName } from './scenarios.ts';
import { currentShift } from '../../core/src/shifts.ts';

export interface GatewaySimOptions {
  url: string;
  enterpriseId: string;
  gatewayId: string;
  secret: string;
  sensors: SensorEntry[];
  industry?: string;
  timezone?: string;
  intervalMs: number;
  catalogue: Catalogue;
  logger: Logger;
  faults?: FaultRates;
  /** Batches kept while disconnected (store-and-forward), oldest dropped past this. */
  bufferMaxBatches?: number;
  random?: () => number;
}

export interface SimStats {
  published: number;
  readings: number;
  buffered: number;
  errReceived: number;
  connected: boolean;
}

interface Incident {
  sensorId: string;
  scenario: ScenarioName;
  startMs: number;
}

/**
 * One simulated enterprise gateway: connects with its own credentials, announces itself
 * on the retained status topic with a last will, and publishes a JSON batch of all its
 * sensors every interval, shaped by its industry profile and shift pattern. Incidents
 * follow the scenarios; faults are injected at the configured rates. While disconnected
 * it stores batches and forwards them, oldest first, when it is back.
 */
export function createGatewaySim(opts: GatewaySimOptions) {
  const rnd = opts.random ?? Math.random;
  const faults = opts.faults ?? NO_FAULTS;
  const industry = industryOf(opts.industry ?? 'foundry');
  const log = opts.logger.child({ module: 'simulator', gateway: `${opts.enterpriseId}/${opts.gatewayId}` });
  const molarVolumeL = opts.catalogue.profiles.get(opts.sensors[0]?.profileId ?? '')?.molarVolumeL ?? 24.04;
  const skewMs = rnd() < faults.clockSkew ? Math.round((rnd() - 0.5) * 2 * 120_000) : 0;
  const stats: SimStats = { published: 0, readings: 0, buffered: 0, errReceived: 0, connected: false };
  const buffer: string[] = [];
  const incidents: Incident[] = [];
  const stuck = new Map<string, { value: number; untilMs: number }>();
  const drift = new Map<string, number>();
  let held: string | undefined; // a message held back to be sent out of order
  let client: MqttClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  const upTopic = topics.up(opts.enterpriseId, opts.gatewayId);

  // Box–Muller: normal noise around the level.
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());

  const valueAt = (s: SensorEntry, t: number): number | undefined => {
    const st = stuck.get(s.id);
    if (st && t < st.untilMs) return st.value;
    const profile = industry.sensors.find((p) => p.agent === s.agent);
    const inShift = industry.shifts.length === 0 || currentShift(industry.shifts, opts.timezone ?? 'Asia/Shanghai', t) !== undefined;
    let v = baseLevel(s, opts.catalogue, profile) * (inShift ? 1 : industry.offShiftFactor);
    const rsd = profile?.rsd ?? 0.2;
    v = s.agentDef.kind === 'noise' ? v + gauss() * rsd * v * 0.5 : v * Math.exp(gauss() * rsd - (rsd * rsd) / 2); // log-normal, as exposure data are
    const { ceiling } = limitsOf(s, opts.catalogue);
    for (const inc of incidents) if (inc.sensorId === s.id) v = Math.max(v, SCENARIOS[inc.scenario].level(t - inc.startMs, v, ceiling));
    let out = toSensorUnit(Math.max(0, v), s, molarVolumeL);
    if (drift.has(s.id)) out += drift.get(s.id)!; // negative zero drift (small, below zero when the level is low)
    else if (rnd() < faults.drift) drift.set(s.id, -0.01 * (s.max - s.min));
    if (rnd() < faults.flatline) stuck.set(s.id, { value: out, untilMs: t + 15 * 60_000 });
    return Math.min(s.max, Math.round(out * 1000) / 1000);
  };

  const send = (payload: string) => {
    if (!client?.connected) {
      buffer.push(payload);
      if (buffer.length > (opts.bufferMaxBatches ?? 10_000)) buffer.shift();
      stats.buffered = buffer.length;
      return;
    }
    client.publish(upTopic, payload, { qos: 1 }, (err) => {
      if (err) {
        buffer.push(payload); // not acknowledged: keep it for the next connection
        stats.buffered = buffer.length;
      } else stats.published++;
    });
  };

  const tick = () => {
    const t = Date.now();
    while (incidents[0] && t - incidents[0].startMs > SCENARIOS[incidents[0].scenario].durationMs) incidents.shift();
    const readings = [];
    for (const s of opts.sensors) {
      if (rnd() < faults.dropout) continue;
      const value = valueAt(s, t);
      if (value !== undefined) readings.push({ sensor: s.id, value, unit: s.unit });
    }
    stats.readings += readings.length;
    let payload = JSON.stringify({ ts: t + skewMs, readings });
    if (rnd() < faults.malformed) payload = MALFORMED_PAYLOADS[Math.floor(rnd() * MALFORMED_PAYLOADS.length)]!;
    if (rnd() < faults.outOfOrder && !held) {
      held = payload;
      return;
    }
    send(payload);
    if (held) {
      send(held);
      held = undefined;
    }
    if (rnd() < faults.duplicate) send(payload);
  };

  const flushBuffer = () => {
    const pending = buffer.splice(0);
    stats.buffered = 0;
    if (pending.length) log.info({ batches: pending.length }, 'forwarding readings stored while disconnected');
    for (const p of pending) send(p);
  };

  return {
    stats,
    /** Start an incident (default: a scenario that fits a random sensor), optionally back-dated. */
    incident(sensorId?: string, scenario?: ScenarioName, startMs = Date.now()) {
      const s = sensorId ? opts.sensors.find((x) => x.id === sensorId) : opts.sensors[Math.floor(rnd() * opts.sensors.length)];
      if (!s) return undefined;
      incidents.push({ sensorId: s.id, scenario: scenario ?? scenarioFor(s.agentDef.kind).name, startMs });
      return s.id;
    },
    async start() {
      const statusTopic = topics.status(opts.enterpriseId, opts.gatewayId);
      client = mqtt.connect(opts.url, {
        username: `${opts.enterpriseId}/${opts.gatewayId}`,
        password: opts.secret,
        clientId: `${opts.enterpriseId}.${opts.gatewayId}.sim`,
        clean: true,
        reconnectPeriod: 2000,
        will: { topic: statusTopic, payload: Buffer.from('offline'), qos: 1, retain: true },
      });
      client.on('error', (err) => log.debug({ err: err.message }, 'mqtt error'));
      client.on('offline', () => (stats.connected = false));
      client.on('message', () => stats.errReceived++);
      client.on('connect', () => {
        stats.connected = true;
        client!.publish(statusTopic, 'online', { qos: 1, retain: true });
        client!.subscribe(topics.err(opts.enterpriseId, opts.gatewayId), { qos: 0 });
        flushBuffer();
      });
      await new Promise<void>((resolve, reject) => {
        client!.once('connect', () => resolve());
        client!.once('error', reject);
      });
      timer = setInterval(tick, opts.intervalMs);
      tick();
    },
    /** Drop the connection (to exercise store-and-forward); it reconnects by itself. */
    disconnect() {
      client?.stream.destroy();
    },
    async stop() {
      if (timer) clearInterval(timer);
      if (client) {
        if (client.connected) await client.publishAsync(topics.status(opts.enterpriseId, opts.gatewayId), 'offline', { qos: 1, retain: true }).catch(() => {});
        await client.endAsync();
      }
    },
  };
}

export type GatewaySim = ReturnType<typeof createGatewaySim>;
