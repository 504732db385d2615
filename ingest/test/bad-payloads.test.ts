import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { createAedesBus } from '../../core/src/bus.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { ERRORS, REASON_MAX_CHARS, type Rejection } from '../../core/src/errors.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import { topics } from '../../core/src/topics.ts';
import { connectGateway } from '../../test/clients.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { decodePayload } from '../src/decode.ts';
import { isRejection, validateReading } from '../src/validate.ts';
import { ERR_MESSAGE_MAX_BYTES, errMessage } from '../../core/src/err-message.ts';
import { createIngestWorker, type ErrMessage, type IngestWorker } from '../src/ingest-worker.ts';

const E = 'cement-liguo';
const DUST = 'cement-liguo.dust-resp-1';
const NOISE = 'cement-liguo.noise-1';
const SO2 = 'cement-liguo.so2-1';
const now = Date.now();
const ok = (sensor = NOISE, ts?: number) => ({ sensor, ...(sensor === NOISE ? { value: 80, unit: 'dB(A)' } : { value: 0.3, unit: 'mg/m3' }), ...(ts ? { ts } : {}) });

/**
 * The bad-payload corpus: each case is one kind of mistake a gateway makes, the code it
 * must get back on its err topic, and how many readings of the message must still be stored.
 */
const corpus: { name: string; payload: string | Buffer; codes: string[]; stored: number }[] = [
  { name: 'not JSON', payload: '{"ts": 1, readings: [', codes: ['HW_ERR_PAYLOAD_NOT_JSON'], stored: 0 },
  { name: 'empty payload', payload: '', codes: ['HW_ERR_PAYLOAD_NOT_JSON'], stored: 0 },
  { name: 'binary garbage', payload: Buffer.from([0xff, 0xfe, 0x00, 0x12]), codes: ['HW_ERR_PAYLOAD_NOT_JSON'], stored: 0 },
  { name: 'JSON array of numbers (not SenML records)', payload: '[1,2,3]', codes: ['HW_ERR_UNKNOWN_SENSOR'], stored: 0 },
  { name: 'SenML string value', payload: JSON.stringify([{ bn: 'cement-liguo.', bt: now / 1000 + 20, n: 'noise-1', vs: 'loud' }, { n: 'dust-resp-1', u: 'mg/m3', v: 0.2 }]), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'JSON string', payload: '"hello"', codes: ['HW_ERR_PAYLOAD_SHAPE'], stored: 0 },
  { name: 'JSON null', payload: 'null', codes: ['HW_ERR_PAYLOAD_SHAPE'], stored: 0 },
  { name: 'readings is not an array', payload: JSON.stringify({ ts: now, readings: {} }), codes: ['HW_ERR_PAYLOAD_SHAPE'], stored: 0 },
  { name: 'missing readings', payload: JSON.stringify({ ts: now }), codes: ['HW_ERR_PAYLOAD_SHAPE'], stored: 0 },
  { name: 'too many readings', payload: JSON.stringify({ ts: now, readings: Array.from({ length: 11 }, () => ok()) }), codes: ['HW_ERR_TOO_MANY_READINGS'], stored: 0 },
  { name: 'too large', payload: JSON.stringify({ ts: now, readings: [ok()], pad: 'x'.repeat(5000) }), codes: ['HW_ERR_PAYLOAD_TOO_LARGE'], stored: 0 },
  { name: 'unknown sensor', payload: JSON.stringify({ ts: now + 1, readings: [{ sensor: 'nope', value: 1, unit: 'mg/m3' }, ok()] }), codes: ['HW_ERR_UNKNOWN_SENSOR'], stored: 1 },
  { name: 'sensor id not a string', payload: JSON.stringify({ ts: now + 2, readings: [{ sensor: 42, value: 1 }, ok()] }), codes: ['HW_ERR_UNKNOWN_SENSOR'], stored: 1 },
  { name: 'reading is not an object', payload: JSON.stringify({ ts: now + 3, readings: [7, ok()] }), codes: ['HW_ERR_UNKNOWN_SENSOR'], stored: 1 },
  { name: 'sensor of another enterprise', payload: JSON.stringify({ ts: now + 4, readings: [{ sensor: 'chem-dawu.h2s-1', value: 1, unit: 'ppm' }, ok()] }), codes: ['HW_ERR_SENSOR_NOT_OWNED'], stored: 1 },
  { name: 'unconvertible unit', payload: JSON.stringify({ ts: now + 5, readings: [{ sensor: DUST, value: 1, unit: 'ppm' }, ok()] }), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'unknown unit', payload: JSON.stringify({ ts: now + 6, readings: [{ sensor: NOISE, value: 80, unit: 'furlongs' }, ok(DUST)] }), codes: ['HW_ERR_BAD_UNIT'], stored: 1 },
  { name: 'value is a string', payload: JSON.stringify({ ts: now + 7, readings: [{ sensor: DUST, value: '0.4', unit: 'mg/m3' }, ok()] }), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'value is "NaN"', payload: JSON.stringify({ ts: now + 8, readings: [{ sensor: DUST, value: 'NaN' }, ok()] }), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'value is null (JSON for NaN/Infinity)', payload: JSON.stringify({ ts: now + 9, readings: [{ sensor: DUST, value: Infinity }, ok()] }), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'value missing', payload: JSON.stringify({ ts: now + 10, readings: [{ sensor: DUST }, ok()] }), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'value is an object', payload: JSON.stringify({ ts: now + 11, readings: [{ sensor: DUST, value: { v: 1 } }, ok()] }), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'value is a boolean', payload: JSON.stringify({ ts: now + 12, readings: [{ sensor: DUST, value: true }, ok()] }), codes: ['HW_ERR_BAD_VALUE'], stored: 1 },
  { name: 'negative concentration beyond zero drift', payload: JSON.stringify({ ts: now + 13, readings: [{ sensor: DUST, value: -50, unit: 'mg/m3' }, ok()] }), codes: ['HW_ERR_OUT_OF_RANGE'], stored: 1 },
  { name: 'above the instrument range', payload: JSON.stringify({ ts: now + 14, readings: [{ sensor: NOISE, value: 190, unit: 'dB(A)' }, ok(DUST)] }), codes: ['HW_ERR_OUT_OF_RANGE'], stored: 1 },
  { name: 'far-future timestamp', payload: JSON.stringify({ ts: now + 15, readings: [{ ...ok(), ts: now + 3600_000 }, ok(DUST)] }), codes: ['HW_ERR_TS_FUTURE'], stored: 1 },
  { name: 'too-old timestamp', payload: JSON.stringify({ ts: now + 16, readings: [{ ...ok(), ts: now - 30 * 24 * 3600_000 }, ok(DUST)] }), codes: ['HW_ERR_TS_TOO_OLD'], stored: 1 },
  { name: 'timestamp in seconds, not ms', payload: JSON.stringify({ ts: now + 17, readings: [{ ...ok(), ts: Math.floor(now / 1000) }, ok(DUST)] }), codes: ['HW_ERR_TS_TOO_OLD'], stored: 1 },
  { name: 'timestamp as ISO string', payload: JSON.stringify({ ts: new Date(now).toISOString(), readings: [ok()] }), codes: ['HW_ERR_BAD_TS'], stored: 0 },
  { name: 'fractional timestamp', payload: JSON.stringify({ readings: [{ ...ok(), ts: now + 0.5 }] }), codes: ['HW_ERR_BAD_TS'], stored: 0 },
  { name: 'no timestamp at all', payload: JSON.stringify({ readings: [ok()] }), codes: ['HW_ERR_BAD_TS'], stored: 0 },
  { name: 'duplicate within the batch', payload: JSON.stringify({ ts: now + 18, readings: [ok(), ok()] }), codes: ['HW_ERR_DUPLICATE'], stored: 1 },
  { name: 'an older reading sent again after newer ones (out of order)', payload: JSON.stringify({ readings: [ok(NOISE, now + 21), ok(NOISE, now + 23), ok(NOISE, now + 22), ok(NOISE, now + 21)] }), codes: ['HW_ERR_DUPLICATE'], stored: 3 },
  { name: 'several faults in one batch', payload: JSON.stringify({ ts: now + 19, readings: [ok(), { sensor: SO2, value: -100, unit: 'mg/m3' }, { sensor: 'x' }, ok(DUST)] }), codes: ['HW_ERR_OUT_OF_RANGE', 'HW_ERR_UNKNOWN_SENSOR'], stored: 2 },
];

describe('ingest: bad payloads over real MQTT', () => {
  let broker: Broker;
  let store: Store;
  let worker: IngestWorker;
  let gw: MqttClient;
  const dir = tempDir();
  const errs: ErrMessage[] = [];
  const metrics = createMetrics();

  beforeAll(async () => {
    const { registry, catalogue } = demo();
    const logger = silentLogger();
    broker = createBroker({ registry, logger }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 64 * 1024, serviceUsername: 'svc', servicePassword: 'svc-secret' });
    await broker.start();
    store = createSqliteStore(dir, logger);
    await store.start();
    worker = createIngestWorker({ registry, catalogue, store, bus: createAedesBus(broker.aedes), logger, metrics }, {
      batchMaxReadings: 100, flushIntervalMs: 10, maxReadingsPerMessage: 10, maxPayloadBytes: 4096, maxFutureSkewMs: 60_000, maxAgeMs: 7 * 24 * 3600_000,
      memoryMaxReadings: 1000, writeConcurrency: 2, spool: { dir: `${dir}/spool`, maxBytes: 1 << 20, segmentMaxReadings: 1000, segmentMaxMs: 100, fsyncIntervalMs: 50 },
    });
    await worker.start();
    gw = await connectGateway(broker.port(), E);
    await gw.subscribeAsync(topics.err(E, 'gw1'), { qos: 1 });
    gw.on('message', (_t, p) => errs.push(JSON.parse(p.toString()) as ErrMessage));
  });
  afterAll(async () => {
    await gw.endAsync();
    await worker.stop();
    await broker.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`rejects each of ${corpus.length} kinds of bad payload with the right code and keeps the good readings`, async () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
    for (const c of corpus) {
      const before = errs.length;
      const storedBefore = (await store.countReadings({ sensorId: NOISE, from: 0, to: Infinity })) + (await store.countReadings({ sensorId: DUST, from: 0, to: Infinity }));
      await gw.publishAsync(topics.up(E, 'gw1'), c.payload, { qos: 1 });
      const err = await waitFor(() => errs[before], { what: `err for "${c.name}"` });
      expect([...new Set(err.rejected.map((r) => r.code))], c.name).toEqual(c.codes);
      expect(err.accepted, c.name).toBe(c.stored);
      for (const r of err.rejected) expect(r.message.length, c.name).toBeGreaterThan(10);
      await worker.flush();
      const storedAfter = (await store.countReadings({ sensorId: NOISE, from: 0, to: Infinity })) + (await store.countReadings({ sensorId: DUST, from: 0, to: Infinity }));
      expect(storedAfter - storedBefore, c.name).toBe(c.stored);
    }
    // The broker and worker are still alive and a clean batch still goes through.
    await gw.publishAsync(topics.up(E, 'gw1'), JSON.stringify({ ts: now + 100, readings: [ok()] }), { qos: 1 });
    await worker.flush();
    expect(await store.countReadings({ sensorId: NOISE, from: now + 100, to: now + 100 })).toBe(1);
  });

  it('never throws on arbitrary payloads, and no payload reaches an unexpected exception (fuzz of the decoder and validator)', async () => {
    const label = fc.oneof(
      fc.constantFrom('bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut', 'sensor', 'value', 'unit', 'ts'),
      fc.string({ maxLength: 8 }).map((k) => `${k}_`), // RFC 8428 §4.4 must-understand labels
      fc.string({ maxLength: 8 }),
    );
    const DEEP = '\u0000deep';
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const json = (o: unknown) => (JSON.stringify(o) ?? '').replaceAll(JSON.stringify(DEEP), deep);
    // Values of every hostile shape: wrong types, deep nesting, long strings, numbers beyond a Date's range.
    const hostile = fc.oneof(
      fc.anything(),
      fc.constantFrom(9e15, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e308, -0, 2 ** 28, now, now / 1000, 'cement-liguo.', 'cement-liguo.noise-1', 'noise-1', 'dB(A)', 'mg/m3', ['ppb']),
      fc.constant(DEEP), // replaced after JSON.stringify by an array nested 20,000 deep (it overflows JSON.stringify)
      fc.integer({ min: 100, max: 5000 }).map((n) => 'x'.repeat(n)),
    );
    const record = fc.dictionary(label, hostile, { maxKeys: 8 });
    // Near-valid readings and SenML records: every field but one is usually right, so the
    // hostile one reaches the deep checks (a reading that is wrong everywhere stops at the first).
    const maybe = <T>(good: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 3 }, { arbitrary: hostile, weight: 1 });
    const nearReading = fc.record({
      sensor: maybe(fc.constantFrom(NOISE, DUST, SO2)), value: maybe(fc.double({ min: 0, max: 100 })),
      unit: maybe(fc.constantFrom('dB(A)', 'mg/m3', 'ppm', 'ppb', 'ug/m3')), ts: maybe(fc.integer({ min: now - 1000, max: now + 1000 })),
    }, { requiredKeys: ['sensor', 'value'] });
    const nearRecord = fc.tuple(
      fc.record({ bn: maybe(fc.constant(`${E}.`)), bt: maybe(fc.constant(now / 1000)), bu: maybe(fc.constantFrom('mg/m3', 'dB(A)')), bv: maybe(fc.double({ min: 0, max: 1 })) }, { requiredKeys: [] }),
      fc.record({ n: maybe(fc.constantFrom('noise-1', 'dust-resp-1', 'so2-1')), v: maybe(fc.double({ min: 0, max: 100 })), u: maybe(fc.constantFrom('mg/m3', 'dB(A)', 'ppb')), t: maybe(fc.double({ min: -10, max: 10, noNaN: true })), s: hostile }, { requiredKeys: ['n'] }),
      fc.option(fc.tuple(fc.string({ maxLength: 6 }).map((k) => `${k}_`), hostile), { freq: 5 }),
    ).map(([base, rec, mu]) => ({ ...base, ...rec, ...(mu ? { [mu[0]]: mu[1] } : {}) }));
    const payloads = fc.oneof(
      fc.string(), fc.json(), fc.uint8Array().map((a) => Buffer.from(a).toString('latin1')),
      fc.record({ ts: hostile, readings: fc.array(record, { maxLength: 30 }) }).map(json),
      fc.array(record, { maxLength: 30 }).map(json), // SenML packs
      fc.record({ ts: maybe(fc.constant(now)), readings: fc.array(nearReading, { minLength: 1, maxLength: 10 }) }).map(json),
      fc.array(nearRecord, { minLength: 1, maxLength: 10 }).map(json),
    );
    const { registry, catalogue } = demo();
    const ctx = { registry: registry.current, catalogue, enterpriseId: E, gatewayId: 'gw1', nowMs: now, maxFutureSkewMs: 60_000, maxAgeMs: 7 * 24 * 3600_000 };
    const bounded = (r: Rejection) => {
      expect(r.code in ERRORS).toBe(true);
      expect(r.message.length).toBeLessThanOrEqual(REASON_MAX_CHARS);
    };
    const unexpected = async () => (await metrics.ingestUnexpected.get()).values.reduce((n, v) => n + v.value, 0);
    const before = await unexpected();
    fc.assert(
      fc.property(payloads, (text) => {
        const decoded = decodePayload(Buffer.from(text), { maxBytes: 1 << 16, maxReadings: 1000 });
        // The decoder and validator directly, at sizes past this worker's 4 KB payload limit…
        if (decoded.ok) {
          decoded.readings.forEach((raw, i) => {
            const r = validateReading(raw, i, ctx);
            if (isRejection(r)) bounded(r);
          });
        } else bounded(decoded.rejection);
        // …and the worker, whose every exception would be counted as unexpected.
        const res = worker.handle(`hw/v1/${E}/gw1/up`, Buffer.from(text));
        res.rejected.forEach(bounded);
        expect(Buffer.byteLength(errMessage(`hw/v1/${E}/gw1/up`, 1000, res.accepted, res.rejected))).toBeLessThanOrEqual(ERR_MESSAGE_MAX_BYTES);
      }),
      { numRuns: 600 },
    );
    expect(await unexpected()).toBe(before);
  });
});
