import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { createAedesBus } from '../../core/src/bus.ts';
import { REASON_MAX_CHARS } from '../../core/src/errors.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics, type Metrics } from '../../core/src/metrics.ts';
import { RegistryHolder, type Registry } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../../test/clients.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { ERR_MESSAGE_MAX_BYTES, type ErrMessage } from '../../core/src/err-message.ts';
import { createIngestWorker, type IngestWorker } from '../src/ingest-worker.ts';

const E = 'cement-liguo';
const DUST = 'cement-liguo.dust-resp-1';
const NOISE = 'cement-liguo.noise-1';
const SO2 = 'cement-liguo.so2-1';
const WATCHED = [DUST, NOISE, SO2];
/** A sensor id whose registry lookup throws: the fault injected for item 10 (see TrappedRegistry). */
const TRAP = 'cement-liguo.trap';

/** Timestamps: fresh and increasing, so no case collides with another as a duplicate. */
let clock = Date.now();
const ts = () => ++clock;
const noise = (t = ts()) => ({ sensor: NOISE, value: 80, unit: 'dB(A)', ts: t });
const dust = (t = ts()) => ({ sensor: DUST, value: 0.3, unit: 'mg/m3', ts: t });
const batch = (...readings: unknown[]) => JSON.stringify({ ts: ts(), readings });
const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** A valid SenML record that resets every base field it relies on, so it is stored whatever came before. */
const senmlOk = () => ({ bver: 10, bn: `${E}.`, bt: ts() / 1000, bv: 0, n: 'noise-1', u: 'dB(A)', v: 81 });

interface Case { name: string; payload: string; codes: string[]; stored: number; omitted?: boolean }

/**
 * The hostile corpus: classes of input that made ingest throw, echo without bound, or
 * silently default a type (issue 12 items 10-12), each mixed with valid readings that
 * must still be stored. Built by function so that every case has its own timestamps.
 */
const corpus = (): Case[] => [
  // Item 10: values whose description used to throw in the rejection path itself.
  { name: 'timestamp beyond the Date range (toISOString threw)', payload: batch({ ...noise(), ts: 9e15 }, dust()), codes: ['HW_ERR_TS_FUTURE'], stored: 1 },
  { name: 'largest safe-integer timestamp', payload: batch({ ...dust(), ts: Number.MAX_SAFE_INTEGER }, noise()), codes: ['HW_ERR_TS_FUTURE'], stored: 1 },
  { name: 'value nested 20,000 deep (JSON.stringify overflowed the stack)', payload: `{"ts":${ts()},"readings":[{"sensor":"${DUST}","unit":"mg/m3","value":${nested(20_000)}},${JSON.stringify(noise())}]}`, codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'timestamp nested 20,000 deep', payload: `{"readings":[{"sensor":"${NOISE}","value":80,"ts":${nested(20_000)}},${JSON.stringify(dust())}]}`, codes: ['HW_ERR_BAD_TS'], stored: 1 },
  { name: 'SenML value nested 20,000 deep', payload: `[{"bn":"${E}.","n":"noise-1","u":"dB(A)","v":${nested(20_000)}},${JSON.stringify(senmlOk())}]`, codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  // Item 11: what is echoed is bounded, whatever comes in.
  { name: '30 KB sensor id', payload: batch({ ...noise(), sensor: 'x'.repeat(30_000) }, dust()), codes: ['HW_ERR_FIELD_TOO_LONG'], stored: 1 },
  { name: '30 KB unit', payload: batch({ ...noise(), unit: 'u'.repeat(30_000) }, dust()), codes: ['HW_ERR_FIELD_TOO_LONG'], stored: 1 },
  { name: '30 KB string value', payload: batch({ ...dust(), value: 'v'.repeat(30_000) }, noise()), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'value object with 3,000 keys', payload: batch({ ...dust(), value: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`k${i}`, i])) }, noise()), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  {
    name: '20 KB SenML base name carried by 900 records (each echoed it)',
    payload: JSON.stringify([{ bn: 'b'.repeat(20_000) }, ...Array.from({ length: 900 }, () => ({ n: 'x', v: 1 })), senmlOk()]),
    codes: ['HW_ERR_FIELD_TOO_LONG'], stored: 1, omitted: true,
  },
  {
    name: '20 KB SenML base unit carried by 900 records',
    payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, bu: 'u'.repeat(20_000) }, ...Array.from({ length: 900 }, (_, i) => ({ n: 'noise-1', t: i / 1000 + 0.001, v: 1 })), senmlOk()]),
    codes: ['HW_ERR_FIELD_TOO_LONG'], stored: 1, omitted: true,
  },
  {
    name: '999 unknown sensors with 64-character ids in one batch',
    payload: batch(...Array.from({ length: 999 }, (_, i) => ({ sensor: `${E}.${String(i).padStart(51, 'z')}`, value: 1, unit: 'mg/m3' })), noise()),
    codes: ['HW_ERR_UNKNOWN_SENSOR'], stored: 1, omitted: true,
  },
  // Item 12: a type that is wrong is refused, never replaced by a default or the server clock.
  { name: '"unit": ["ppb"] (was stored as the sensor unit, mg/m3)', payload: batch({ sensor: SO2, value: 150, unit: ['ppb'], ts: ts() }, noise()), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'unit is a number', payload: batch({ sensor: SO2, value: 1, unit: 5, ts: ts() }, noise()), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'unit is null', payload: batch({ sensor: DUST, value: 1, unit: null, ts: ts() }, noise()), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'unit is an object', payload: batch({ sensor: DUST, value: 1, unit: { u: 'mg/m3' }, ts: ts() }, noise()), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'reading ts null (was replaced by the batch ts)', payload: batch({ ...dust(), ts: null }, noise()), codes: ['HW_ERR_BAD_TS'], stored: 1 },
  { name: 'SenML bt is a string (was the server clock)', payload: JSON.stringify([{ bn: `${E}.`, bt: String(ts() / 1000), n: 'noise-1', u: 'dB(A)', v: 80 }, { n: 'dust-resp-1', u: 'mg/m3', v: 0.2 }, senmlOk()]), codes: ['HW_ERR_BAD_TS'], stored: 1 },
  { name: 'SenML t is an array', payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, n: 'noise-1', u: 'dB(A)', t: [1], v: 80 }, senmlOk()]), codes: ['HW_ERR_BAD_TS'], stored: 1 },
  { name: 'SenML u is not a string (was the base unit)', payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, bu: 'mg/m3', n: 'so2-1', u: ['ppb'], v: 150 }, senmlOk()]), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'SenML bu is not a string (was the sensor unit)', payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, bu: 7, n: 'so2-1', v: 150 }, { n: 'dust-resp-1', v: 0.1 }, senmlOk()]), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'SenML bv is not a number (was ignored)', payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, bv: '10', n: 'noise-1', u: 'dB(A)', v: 70 }, senmlOk()]), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'SenML n is not a string (was the base name alone)', payload: JSON.stringify([{ bn: `${E}.noise-1`, bt: ts() / 1000, n: 1, u: 'dB(A)', v: 70 }, senmlOk()]), codes: ['HW_ERR_UNKNOWN_SENSOR'], stored: 1 },
  { name: 'SenML sum-only record with a name', payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, n: 'noise-1', u: 'dB(A)', s: 100 }, senmlOk()]), codes: ['HW_ERR_SENML_SUM_ONLY'], stored: 1 },
  { name: 'SenML sum-only record without a name (was skipped as a base record)', payload: JSON.stringify([{ bn: `${E}.noise-1`, bt: ts() / 1000, bu: 'dB(A)', s: 100 }, senmlOk()]), codes: ['HW_ERR_SENML_SUM_ONLY'], stored: 1 },
  { name: 'SenML must-understand label on a record (RFC 8428 §4.4)', payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, n: 'noise-1', u: 'dB(A)', v: 80, scale_: 1000 }, senmlOk()]), codes: ['HW_ERR_SENML_UNSUPPORTED'], stored: 1 },
  {
    name: 'SenML must-understand label on a base record: the records relying on its base are refused too',
    payload: JSON.stringify([{ bn: `${E}.`, bt: ts() / 1000, tz_: 'Asia/Shanghai' }, { n: 'noise-1', u: 'dB(A)', v: 80 }, { n: 'dust-resp-1', u: 'mg/m3', v: 0.2 }, senmlOk()]),
    codes: ['HW_ERR_SENML_UNSUPPORTED'], stored: 1,
  },
  { name: 'SenML bver above 10', payload: JSON.stringify([{ bver: 11, bn: `${E}.`, bt: ts() / 1000, n: 'noise-1', u: 'dB(A)', v: 80 }, senmlOk()]), codes: ['HW_ERR_SENML_UNSUPPORTED'], stored: 1 },
];

/** The demo registry, with a sensor whose lookup throws and a switch that makes the registry itself throw. */
class TrappedRegistry extends RegistryHolder {
  failWhole = false;
  readonly #trapped: Registry;
  constructor(real: Registry) {
    super(real);
    const sensors = new Map(real.sensors);
    const get = sensors.get.bind(sensors);
    sensors.get = (id: string) => {
      if (id === TRAP) throw new TypeError('injected fault');
      return get(id);
    };
    this.#trapped = { ...real, sensors };
  }
  override get current(): Registry {
    if (this.failWhole) throw new RangeError('injected fault');
    return this.#trapped;
  }
}

describe('ingest: hostile payloads over real MQTT (issue 12 items 10-12)', () => {
  let broker: Broker;
  let store: Store;
  let worker: IngestWorker;
  let gw: MqttClient;
  let metrics: Metrics;
  let registry: TrappedRegistry;
  const dir = tempDir();
  const errs: { bytes: number; msg: ErrMessage }[] = [];
  const stored = async () => {
    let n = 0;
    for (const sensorId of WATCHED) n += await store.countReadings({ sensorId, from: 0, to: Infinity });
    return n;
  };
  /** Publish at QoS 1 (resolves on the PUBACK) and return the err message it caused. */
  const send = async (payload: string, what: string) => {
    const before = errs.length;
    await gw.publishAsync(topics.up(E, 'gw1'), payload, { qos: 1 });
    return waitFor(() => errs[before], { what: `err for "${what}"` });
  };

  beforeAll(async () => {
    const { registry: real, catalogue } = demo();
    registry = new TrappedRegistry(real.current);
    const logger = silentLogger();
    metrics = createMetrics();
    broker = createBroker({ registry: real, logger }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 256 * 1024, serviceUsername: 'svc', servicePassword: 'svc-secret' });
    await broker.start();
    store = createSqliteStore(dir, logger);
    await store.start();
    worker = createIngestWorker({ registry, catalogue, store, bus: createAedesBus(broker.aedes), logger, metrics }, {
      batchMaxReadings: 1000, flushIntervalMs: 10, maxReadingsPerMessage: 1000, maxPayloadBytes: 128 * 1024, maxFutureSkewMs: 60_000, maxAgeMs: 7 * 24 * 3600_000,
      memoryMaxReadings: 10_000, writeConcurrency: 2, spool: { dir: `${dir}/spool`, maxBytes: 1 << 22, segmentMaxReadings: 1000, segmentMaxMs: 100, fsyncIntervalMs: 50 },
    });
    await worker.start();
    gw = await connectGateway(broker.port(), E);
    await gw.subscribeAsync(topics.err(E, 'gw1'), { qos: 1 });
    gw.on('message', (_t, p) => errs.push({ bytes: p.length, msg: JSON.parse(p.toString()) as ErrMessage }));
  });
  afterAll(async () => {
    await gw?.endAsync();
    await worker?.stop();
    await broker?.stop();
    await store?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects each hostile class with its code, keeps the valid readings, and answers in at most 4 KiB', async () => {
    const cases = corpus();
    expect(cases.length).toBeGreaterThanOrEqual(25);
    for (const c of cases) {
      const before = await stored();
      const { bytes, msg } = await send(c.payload, c.name);
      expect([...new Set(msg.rejected.map((r) => r.code))], c.name).toEqual(c.codes);
      expect(msg.accepted, c.name).toBe(c.stored);
      expect(bytes, `${c.name}: err payload of ${c.payload.length} bytes in`).toBeLessThanOrEqual(ERR_MESSAGE_MAX_BYTES);
      for (const r of msg.rejected) {
        expect(r.message.length, c.name).toBeGreaterThan(10);
        expect(r.message.length, c.name).toBeLessThanOrEqual(REASON_MAX_CHARS);
        expect(r.index, c.name).toBeTypeOf('number');
      }
      if (c.omitted) expect(msg.omitted, c.name).toBe(msg.received - msg.accepted - msg.rejected.length);
      else expect(msg.omitted, c.name).toBeUndefined();
      await worker.flush();
      expect((await stored()) - before, c.name).toBe(c.stored);
    }
    // Nothing in the corpus is a defect any more: no exception was caught on the way.
    expect((await metrics.ingestUnexpected.get()).values.reduce((n, v) => n + v.value, 0)).toBe(0);
  });

  it('150 ppb SO2 sent with "unit": ["ppb"] is never stored as 150 mg/m3', async () => {
    const t = ts();
    const { msg } = await send(JSON.stringify({ readings: [{ sensor: SO2, value: 150, unit: ['ppb'], ts: t }] }), 'array unit');
    expect(msg.rejected.map((r) => [r.code, r.index, r.sensor])).toEqual([['HW_ERR_BAD_UNIT', 0, SO2]]);
    await worker.flush();
    expect(await store.countReadings({ sensorId: SO2, from: t, to: t })).toBe(0);
  });

  // No payload is known to throw any more, so a fault is injected into the registry lookup
  // (TrappedRegistry) to stand in for the next defect.
  it('a reading whose check throws is rejected alone with HW_ERR_INGEST_INTERNAL; the valid readings are stored, the error counted', async () => {
    const before = await stored();
    const { msg } = await send(batch(noise(), { sensor: TRAP, value: 1, unit: 'mg/m3', ts: ts() }, dust(), { sensor: TRAP, value: 2, ts: ts() }), 'trapped reading');
    expect(msg.rejected.map((r) => [r.code, r.index])).toEqual([['HW_ERR_INGEST_INTERNAL', 1], ['HW_ERR_INGEST_INTERNAL', 3]]);
    expect(msg.accepted).toBe(2);
    await worker.flush();
    expect((await stored()) - before).toBe(2);
    const counted = (await metrics.ingestUnexpected.get()).values.find((v) => v.labels.stage === 'validate');
    expect(counted?.value).toBe(2);
  });

  it('a message that fails as a whole is answered with HW_ERR_INGEST_INTERNAL on err, not acknowledged in silence', async () => {
    registry.failWhole = true;
    try {
      const { msg } = await send(batch(noise(), dust()), 'whole-message failure');
      expect(msg.rejected.map((r) => r.code)).toEqual(['HW_ERR_INGEST_INTERNAL']);
      expect(msg.accepted).toBe(0);
      expect(msg.rejected[0]!.message).toMatch(/nothing of it is stored/);
    } finally {
      registry.failWhole = false;
    }
    const counted = (await metrics.ingestUnexpected.get()).values.find((v) => v.labels.stage === 'message');
    expect(counted?.value).toBe(1);
    // The gateway and the worker carry on.
    const t = ts();
    await gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ readings: [noise(t)] }), { qos: 1 });
    await worker.flush();
    expect(await store.countReadings({ sensorId: NOISE, from: t, to: t })).toBe(1);
  });

  // A fault while the readings are being taken (here a metric that throws, standing for a
  // defect after validation): the hook must withhold the PUBACK, not release it.
  it('the broker hook withholds the PUBACK when ingest throws while taking the readings (all-in-one wiring)', async () => {
    const { registry: real, catalogue } = demo();
    const logger = silentLogger();
    const m2 = createMetrics();
    const dir2 = tempDir();
    const w2 = createIngestWorker({ registry: real, catalogue, store, bus: createAedesBus(broker.aedes), logger, metrics: m2 }, {
      batchMaxReadings: 100, flushIntervalMs: 10, maxReadingsPerMessage: 10, maxPayloadBytes: 4096, maxFutureSkewMs: 60_000, maxAgeMs: 7 * 24 * 3600_000,
      memoryMaxReadings: 1000, writeConcurrency: 1, spool: { dir: `${dir2}/spool`, maxBytes: 1 << 20, segmentMaxReadings: 1000, segmentMaxMs: 100, fsyncIntervalMs: 50 },
    });
    m2.ingestAccepted.inc = () => {
      throw new Error('injected fault');
    };
    const b2 = createBroker({ registry: real, logger, beforeAck: (t, p) => w2.receive(t, p) }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 64 * 1024, serviceUsername: 'svc', servicePassword: 'svc-secret' });
    await b2.start();
    const g2 = await connectGateway(b2.port(), E);
    try {
      const closed = new Promise<'closed'>((resolve) => g2.once('close', () => resolve('closed')));
      const outcome = await Promise.race([
        g2.publishAsync(topics.up(E, 'gw1'), batch(noise()), { qos: 1 }).then(() => 'acknowledged', () => 'closed'),
        closed,
        new Promise((resolve) => setTimeout(() => resolve('no PUBACK'), 2000)),
      ]);
      expect(outcome).not.toBe('acknowledged');
    } finally {
      g2.end(true);
      await w2.stop(1000);
      await b2.stop();
      rmSync(dir2, { recursive: true, force: true });
    }
  });
});
