import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../core/src/metrics.ts';
import { login, openSocket } from '../../test/clients.ts';
import { waitFor } from '../../test/ports.ts';
import { startApp, stopApp, type AppFixture } from './app-fixture.ts';

/**
 * Hostile WebSocket messages from a logged-in user (review 1, finding 1): deeply nested
 * JSON, wrong shapes, binary frames. Each gets a coded error naming what was wrong (with
 * a bounded echo); nothing escapes the handler, the process stays up and other clients
 * keep working. An unexpected failure inside the handler closes only that socket (1011).
 */
describe('WebSocket: hostile client messages', () => {
  let f: AppFixture;
  let port: number;
  const metrics = createMetrics();
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);

  beforeAll(async () => {
    process.on('uncaughtException', onUncaught);
    f = await startApp('hw-ws-hostile-', { metrics, listen: true, settings: { heartbeatMs: 200 } });
    port = f.port;
  });
  afterAll(async () => {
    process.off('uncaughtException', onUncaught);
    await stopApp(f);
  });

  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  const errorsOf = (sock: Awaited<ReturnType<typeof openSocket>>) => sock.messages.flatMap((m) => (m.type === 'error' ? [m] : []));

  it('answers deeply nested and wrongly shaped messages with a coded, bounded error; the process and other clients carry on', async () => {
    const bystander = await openSocket(port, await login(port, 'city'));
    await waitFor(() => bystander.messages.find((m) => m.type === 'hello'), { what: 'hello' });
    const attacker = await openSocket(port, await login(port, 'township'));
    await waitFor(() => attacker.messages.find((m) => m.type === 'hello'), { what: 'hello' });

    const hostile = [
      `{"type":${nested(20_000)}}`, // 40 KB, under the 64 KB frame limit; JSON.stringify of it overflows the stack
      `{"type":{"a":${nested(20_000)}}}`,
      `{"type":"subscribe-readings","sensors":[${nested(20_000)}]}`,
      `{"type":"subscribe-readings","sensors":${nested(20_000)}}`,
      nested(20_000),
      'null',
      '42',
      '"ping"',
      JSON.stringify({ type: 'x'.repeat(50_000) }),
      JSON.stringify({ type: 'subscribe-readings', sensors: ['cement-liguo.noise-1', 'y'.repeat(10_000)] }),
      JSON.stringify({ type: 'subscribe-readings', sensors: Array.from({ length: 501 }, (_, i) => `s${i}`) }),
      JSON.stringify({ type: 'subscribe-readings', sensors: [null] }),
      JSON.stringify({ type: '__proto__' }),
      '{"__proto__":{"type":"ping"}}',
    ];
    for (const h of hostile) attacker.ws.send(h);
    attacker.ws.send(Buffer.from([0xde, 0xad, 0xbe, 0xef]), { binary: true });
    const errors = await waitFor(() => { const e = errorsOf(attacker); return e.length >= hostile.length + 1 ? e : undefined; }, { what: 'an error per hostile message' });
    expect(errors.every((e) => e.code === 'HW_ERR_BAD_REQUEST')).toBe(true);
    // Each names what was wrong, echoing at most a short prefix.
    expect(errors.every((e) => e.message.length <= 200)).toBe(true);
    expect(errors[0]!.message).toBe('unknown message type an array of 1');
    expect(errors[4]!.message).toBe('message must be an object with a type, not an array of 1');
    expect(errors[8]!.message).toContain('(50000 chars)');
    expect(errors[9]!.message).toContain('sensors[1] must be a sensor id of at most 64 characters');
    expect(errors.at(-1)!.message).toContain('binary');

    // The attacker's socket is still open and answers; so do the others, and new logins work.
    attacker.ws.send(JSON.stringify({ type: 'ping' }));
    await waitFor(() => attacker.messages.find((m) => m.type === 'pong'), { what: 'attacker pong' });
    bystander.ws.send(JSON.stringify({ type: 'ping' }));
    await waitFor(() => bystander.messages.find((m) => m.type === 'pong'), { what: 'bystander pong' });
    const beatsBefore = bystander.messages.filter((m) => m.type === 'heartbeat').length;
    await waitFor(() => bystander.messages.filter((m) => m.type === 'heartbeat').length > beatsBefore + 1 || undefined, { what: 'heartbeats go on' });
    const late = await openSocket(port, await login(port, 'district'));
    await waitFor(() => late.messages.find((m) => m.type === 'snapshot'), { what: 'snapshot for a new client' });
    expect(uncaught).toEqual([]);
    expect(await metrics.registry.getSingleMetricAsString('hw_ws_unexpected_errors_total')).toMatch(/hw_ws_unexpected_errors_total 0$/m);
    for (const s of [bystander, attacker, late]) s.close();
  });

  it('closes only the socket whose message failed unexpectedly (1011), logs and counts it', async () => {
    const bystander = await openSocket(port, await login(port, 'city'));
    await waitFor(() => bystander.messages.find((m) => m.type === 'hello'), { what: 'hello' });
    const victim = await openSocket(port, await login(port, 'township'));
    await waitFor(() => victim.messages.find((m) => m.type === 'snapshot'), { what: 'snapshot' });
    // A defect stand-in: the registry throws while the subscription is checked.
    const reg = f.registry.current;
    const original = reg.visibleEnterprises;
    let armed = true;
    reg.visibleEnterprises = function (this: typeof reg, ...args: Parameters<typeof original>) {
      if (armed && args[0].username === 'township') {
        armed = false;
        throw new Error('injected defect');
      }
      return original.apply(this, args);
    };
    try {
      const closed = new Promise<number>((resolve, reject) => {
        victim.ws.once('close', (code) => resolve(code));
        setTimeout(() => reject(new Error('socket not closed within 5 s')), 5000).unref();
      });
      victim.ws.send(JSON.stringify({ type: 'subscribe-readings', sensors: ['cement-liguo.noise-1'] }));
      expect(await closed).toBe(1011);
    } finally {
      reg.visibleEnterprises = original;
    }
    expect(await metrics.registry.getSingleMetricAsString('hw_ws_unexpected_errors_total')).toMatch(/hw_ws_unexpected_errors_total 1$/m);
    bystander.ws.send(JSON.stringify({ type: 'ping' }));
    await waitFor(() => bystander.messages.find((m) => m.type === 'pong'), { what: 'bystander pong' });
    expect(uncaught).toEqual([]);
    bystander.close();
  });
});
