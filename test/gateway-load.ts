import type { Socket } from 'node:net';
import mqtt, { type MqttClient } from 'mqtt';
import { topics } from '../core/src/topics.ts';
import { demoSecrets } from './clients.ts';
import { waitFor } from './ports.ts';

/** A sensor as the load reports it: a value near `normal`, or near `over` once told to. */
export interface LoadSensor {
  id: string;
  unit: string;
  normal: number;
  /** Above the sensor's limits (raises alerts); sensors without one always report `normal`. */
  over?: number;
}

export interface LoadGateway {
  enterpriseId: string;
  gatewayId: string;
  sensors: LoadSensor[];
}

/** One acknowledged message: every sensor of gateway `g` at `ts`. */
export interface AckedMessage {
  g: number;
  ts: number;
}

export interface GatewayLoadOptions {
  /** MQTT ports of the broker nodes: gateway i connects to node i mod n first, and to the next one each time its connection drops. */
  ports: number[];
  gateways: LoadGateway[];
  /** One message per gateway this often, ms. */
  everyMs: number;
  /** Unacknowledged messages a gateway holds at most: beyond, its ticks are skipped (a gateway's buffer is bounded). */
  maxInFlight: number;
}

export interface GatewayLoad {
  gateways: readonly LoadGateway[];
  /** Acknowledged messages in the order their PUBACKs arrived. */
  acked: readonly AckedMessage[];
  /** Acknowledged messages per gateway. */
  ackedBy(g: number): number;
  published(): number;
  inFlight(): number;
  /** Connections made after the first, per gateway (failovers and reconnects). */
  reconnects(): number[];
  /** The broker port each gateway is connected to now (undefined while it is not). */
  connectedTo(): (number | undefined)[];
  /** From now on these sensors report above their limits. */
  overLimit(sensorIds: readonly string[]): void;
  /** From now on these sensors report normal values again. */
  normal(sensorIds: readonly string[]): void;
  /** Stops publishing and waits (bounded) for the messages still in flight. */
  stop(): Promise<void>;
}

/**
 * Real gateways over MQTT/TCP publishing QoS 1 batches at a steady rate: one message per
 * gateway every `everyMs`, each reading of a sensor with a timestamp of its own (strictly
 * increasing per gateway), so a stored reading is found by (sensor, ts). A message counts
 * as acknowledged when its publish resolved (the broker's PUBACK).
 *
 * A dropped connection is the gateway's to survive, as a real one does with mqtt.js: it
 * reconnects (to the next broker node), and mqtt.js sends again every QoS 1 message that
 * has no PUBACK yet (MQTT-4.4.0-1 asks it of persistent sessions; mqtt.js resends its
 * outgoing store on every reconnect, clean or not), so the broker may get a message twice
 * but an acknowledged one never goes missing on the gateway's side.
 */
export async function startGatewayLoad(o: GatewayLoadOptions): Promise<GatewayLoad> {
  const over = new Set<string>();
  const acked: AckedMessage[] = [];
  const ackedBy = o.gateways.map(() => 0);
  const inFlight = o.gateways.map(() => 0);
  const connects = o.gateways.map(() => 0);
  const ports: (number | undefined)[] = o.gateways.map(() => undefined);
  let published = 0;
  let running = true;
  const jitter = (v: number) => v * (0.95 + Math.random() * 0.1);

  const clients: MqttClient[] = await Promise.all(o.gateways.map(async (gw, g) => {
    const username = `${gw.enterpriseId}/${gw.gatewayId}`;
    // mqtt.js takes the servers in turn, one per (re)connection, starting with the first.
    const servers = o.ports.map((_, k) => ({ host: '127.0.0.1', port: o.ports[(g + k) % o.ports.length]! }));
    const client = mqtt.connect({
      servers, username, password: demoSecrets[username], clientId: `${gw.enterpriseId}.${gw.gatewayId}.drill`,
      clean: true, reconnectPeriod: 200, connectTimeout: 5000, keepalive: 10,
    });
    client.on('error', () => {}); // refused or dropped connections are retried: counted by the phases that wait for acks
    client.on('connect', () => {
      connects[g]!++;
      ports[g] = (client.stream as Partial<Socket>).remotePort;
    });
    client.on('close', () => (ports[g] = undefined));
    await waitFor(() => client.connected || undefined, { what: `gateway ${username} connected` });
    return client;
  }));

  const lastTs = o.gateways.map(() => 0);
  const tick = (g: number) => {
    if (!running || inFlight[g]! >= o.maxInFlight) return;
    const gw = o.gateways[g]!;
    const ts = Math.max(Date.now(), lastTs[g]! + 1);
    lastTs[g] = ts;
    const readings = gw.sensors.map((s) => ({ sensor: s.id, value: Number(jitter(s.over !== undefined && over.has(s.id) ? s.over : s.normal).toPrecision(4)), unit: s.unit }));
    inFlight[g]!++;
    published++;
    clients[g]!.publishAsync(topics.up(gw.enterpriseId, gw.gatewayId), JSON.stringify({ ts, readings }), { qos: 1 }).then(
      () => {
        acked.push({ g, ts });
        ackedBy[g]!++;
      },
      () => {}, // only when the client is ended at stop(): never acknowledged, so never counted
    ).finally(() => inFlight[g]!--);
  };
  const timers = o.gateways.map((_, g) => setInterval(() => tick(g), o.everyMs));

  return {
    gateways: o.gateways,
    acked,
    ackedBy: (g) => ackedBy[g]!,
    published: () => published,
    inFlight: () => inFlight.reduce((a, b) => a + b, 0),
    reconnects: () => connects.map((n) => n - 1),
    connectedTo: () => [...ports],
    overLimit(ids) {
      for (const id of ids) over.add(id);
    },
    normal(ids) {
      for (const id of ids) over.delete(id);
    },
    async stop() {
      running = false;
      for (const t of timers) clearInterval(t);
      await waitFor(() => inFlight.every((n) => n === 0) || undefined, { what: 'gateways\' last messages acknowledged', timeoutMs: 30_000 }).catch(() => {});
      await Promise.all(clients.map((c) => c.endAsync(true)));
    },
  };
}
