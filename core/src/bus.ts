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

export interface MqttBusOptions {
  /**
   * A persistent session (clean: false) under a stable client id: QoS 1 messages the
   * broker holds for this service while it is down, or sent but not yet acknowledged when
   * it died, are delivered again when it comes back. Ingest uses this, so a `kill -9` of
   * an ingest process loses nothing the broker acknowledged to a gateway.
   */
  persistent?: boolean;
}

/** An MQTT bus is connected by `connect()`, after its handlers are subscribed. */
export interface MqttBus extends MessageBus {
  /**
   * Connects and subscribes every handler registered so far; rejects on a refused login.
   * Subscribing first matters for a persistent session: the broker delivers what it
   * queued the moment the session resumes, and mqtt.js handles incoming packets one at a
   * time, so a message held for a handler not yet registered would stall the SUBACK.
   */
  connect(): Promise<void>;
  /** Connected to the broker now (false while mqtt.js reconnects). */
  isConnected(): boolean;
}

export function createMqttBus(url: string, username: string, password: string, clientId: string, opts: MqttBusOptions = {}): MqttBus {
  const handlers: { filter: string; handler: BusHandler }[] = [];
  let connected = false;
  const client: MqttClient = mqtt.connect(url, { username, password, clientId, clean: !opts.persistent, reconnectPeriod: 1000, manualConnect: true });
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
    if (pending.length === 0) return done();
    Promise.all(pending).then(
      () => done(),
      // A handler could not take it (ingest: the spool append failed): no PUBACK. Drop the
      // connection so the broker keeps the message and delivers it again after reconnecting.
      () => client.stream.destroy(),
    );
  };
  return {
    isConnected: () => client.connected,
    async connect() {
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
        client.connect();
      });
      client.on('error', () => {}); // reconnects by itself; a refused login already rejected above
      connected = true;
      if (handlers.length) await client.subscribeAsync([...new Set(handlers.map((h) => h.filter))], { qos: 1 });
    },
    async subscribe(topic, handler) {
      handlers.push({ filter: topic, handler });
      if (connected) await client.subscribeAsync(topic, { qos: 1 });
    },
    async publish(topic, payload, opts = {}) {
      await client.publishAsync(topic, payload, { qos: opts.qos ?? 0, retain: opts.retain ?? false });
    },
    async close() {
      // A graceful end waits for our unacknowledged QoS 1 publishes; with the broker gone
      // that is forever, so give it a moment and then close the socket regardless.
      // (mqtt.js ignores a second end() while the first is pending, hence the race.)
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        client.endAsync().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 2000))),
      ]);
      clearTimeout(timer);
      if (!ended) client.stream.destroy();
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
