import mqtt, { type MqttClient } from 'mqtt';
import type { Aedes } from 'aedes';

/**
 * A message handler. When it returns a promise, an in-process QoS 1 message is
 * acknowledged (PUBACK) only once the promise settles: ingest uses this to hold the
 * PUBACK until the reading is in its spool, and to apply backpressure when the spool is full.
 */
export type BusHandler = (topic: string, payload: Buffer) => void | Promise<void>;

/**
 * How services talk to the broker. In one process they use Aedes directly (no second
 * TCP hop: shared/reference/performance.md); as separate processes, an MQTT client with
 * service credentials. Services never care which.
 */
export interface MessageBus {
  subscribe(topic: string, handler: BusHandler): Promise<void>;
  publish(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export function createAedesBus(aedes: Aedes): MessageBus {
  const subs: { topic: string; fn: Parameters<Aedes['subscribe']>[1] }[] = [];
  return {
    subscribe(topic, handler) {
      const fn: Parameters<Aedes['subscribe']>[1] = (packet, cb) => {
        const done = handler(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload));
        if (done) done.then(() => cb(), () => cb());
        else cb();
      };
      subs.push({ topic, fn });
      return new Promise((resolve) => aedes.subscribe(topic, fn, resolve));
    },
    publish(topic, payload, opts = {}) {
      return new Promise((resolve, reject) =>
        aedes.publish(
          { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false },
          (err) => (err ? reject(err) : resolve()),
        ),
      );
    },
    async close() {
      await Promise.all(subs.splice(0).map(({ topic, fn }) => new Promise<void>((r) => aedes.unsubscribe(topic, fn, r))));
    },
  };
}

export async function createMqttBus(url: string, username: string, password: string, clientId: string): Promise<MessageBus> {
  const client: MqttClient = await mqtt.connectAsync(url, { username, password, clientId, clean: true, reconnectPeriod: 1000 });
  const handlers: { filter: string; handler: BusHandler }[] = [];
  // Take over mqtt.js's message hook so a QoS 1 PUBACK to the broker waits for the
  // handler's promise (the same contract as the in-process bus).
  client.handleMessage = (packet, done) => {
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const pending: Promise<void>[] = [];
    for (const h of handlers) {
      if (!topicMatches(h.filter, packet.topic)) continue;
      const p = h.handler(packet.topic, payload);
      if (p) pending.push(p);
    }
    if (pending.length) Promise.allSettled(pending).then(() => done());
    else done();
  };
  return {
    async subscribe(topic, handler) {
      handlers.push({ filter: topic, handler });
      await client.subscribeAsync(topic, { qos: 1 });
    },
    async publish(topic, payload, opts = {}) {
      await client.publishAsync(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
    },
    async close() {
      await client.endAsync();
    },
  };
}

/** MQTT topic filter match ([MQTT-4.7]: `+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}
