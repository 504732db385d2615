import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { waitFor } from '../../test/ports.ts';
import type { Broker } from '../src/broker.ts';
import { codeOf, connect, startBroker } from './fixtures.ts';

describe('broker: no poison pill', () => {
  let broker: Broker;
  let svc: MqttClient;
  const up: { topic: string; bytes: number; retain: boolean }[] = [];
  const handedToIngest: number[] = [];

  beforeAll(async () => {
    ({ broker } = await startBroker({ beforeAck: (_topic, payload) => (handedToIngest.push(payload.length), undefined) }));
    svc = await connect(broker.port(), 'svc', 'svc-secret');
    await svc.subscribeAsync('hw/v1/+/+/up', { qos: 1 });
    svc.on('message', (topic, p, packet) => up.push({ topic, bytes: p.length, retain: packet.retain }));
  });
  afterAll(async () => {
    await svc?.endAsync();
    await broker?.stop();
  });

  it('acknowledges a QoS 1 message over the payload limit, rejects it on err with HW_ERR_PAYLOAD_TOO_LARGE, and lets the next one through', async () => {
    const c = await connect(broker.port(), 'a/g1', 'a-g1-secret');
    let closed = false;
    c.on('close', () => (closed = true));
    const errs: { topic: string; rejected: { code: string; message: string }[] }[] = [];
    await c.subscribeAsync('hw/v1/a/g1/err', { qos: 1 });
    c.on('message', (_t, p) => errs.push(JSON.parse(p.toString()) as (typeof errs)[number]));
    // publishAsync resolves on the PUBACK: a standard client drops the message from its
    // outgoing store and does not resend it on a reconnect.
    await c.publishAsync('hw/v1/a/g1/up', Buffer.alloc(100_000, 'x'), { qos: 1 });
    await waitFor(() => errs.length > 0 || undefined, { what: 'the rejection on err' });
    expect(errs[0]!.topic).toBe('hw/v1/a/g1/up');
    expect(errs[0]!.rejected.map((r) => r.code)).toEqual(['HW_ERR_PAYLOAD_TOO_LARGE']);
    expect(errs[0]!.rejected[0]!.message).toContain('100000 bytes > 4096');
    // A short answer: nothing of the payload is echoed.
    expect(JSON.stringify(errs[0]).length).toBeLessThan(300);
    await c.publishAsync('hw/v1/a/g1/up', '{"next":true}', { qos: 1 });
    await waitFor(() => up.some((u) => u.bytes === 13) || undefined, { what: 'the next message at the service' });
    expect(closed).toBe(false);
    // The oversized message reached neither an up subscriber nor ingest.
    expect(up.filter((u) => u.bytes > 4096)).toEqual([]);
    expect(handedToIngest.filter((n) => n > 4096)).toEqual([]);
    expect(broker.counters.refused.payload_too_large).toBe(1);
    await c.endAsync();
  });

  it('strips the retained flag from up: no reading is replayed to a later subscriber', async () => {
    const c = await connect(broker.port(), 'b/g1', 'b-g1-secret');
    await c.publishAsync('hw/v1/b/g1/up', '{"retained":1}', { qos: 1, retain: true });
    await waitFor(() => up.some((u) => u.topic === 'hw/v1/b/g1/up') || undefined, { what: 'live delivery' });
    await c.endAsync();
    const later = await connect(broker.port(), 'svc', 'svc-secret');
    const replayed: string[] = [];
    later.on('message', (_t, p) => replayed.push(p.toString()));
    await later.subscribeAsync('hw/v1/b/g1/up', { qos: 1 });
    // A marker after the subscription: retained messages are sent before it arrives.
    const marker = await connect(broker.port(), 'b/g1', 'b-g1-secret');
    await marker.publishAsync('hw/v1/b/g1/up', '{"marker":1}', { qos: 1 });
    await waitFor(() => replayed.includes('{"marker":1}') || undefined, { what: 'the marker' });
    expect(replayed).toEqual(['{"marker":1}']);
    expect(broker.counters.refused.retain_stripped).toBe(1);
    await marker.endAsync();
    await later.endAsync();
  });

  it('refuses a secret with trailing NULs or an empty one, for gateways and the service account', async () => {
    expect(await codeOf(connect(broker.port(), 'b/g2', 'b-g2-secret\0'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'b/g2', Buffer.from('b-g2-secret\0\0\0')))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'svc', 'svc-secret\0'))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'b/g2', ''))).toBe(4);
    expect(await codeOf(connect(broker.port(), 'b/g2', 'b-g2-secret'))).toBe(0);
  });
});
