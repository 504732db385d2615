import { compareIds } from '../../core/src/streams/stream-entry.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics } from '../../core/src/metrics.ts';
import type { AlertEvent, Reading } from '../../core/src/types.ts';
import type { RulesEngine } from '../../rules/src/engine.ts';
import { login, openSocket } from '../../test/clients.ts';
import { waitFor } from '../../test/ports.ts';
import type { HazardwatchApp } from '../src/app.ts';
import { feed as feedApp, readingNow, startApp, stopApp, type AppFixture } from './app-fixture.ts';

/**
 * The WebSocket over a real TCP socket: live readings scoped to the user, replay after a
 * reconnect, heartbeats, and a client that stops reading is dropped without holding up others.
 */
describe('WebSocket', () => {
  let f: AppFixture & { rules: RulesEngine };
  let rules: RulesEngine;
  let hw: HazardwatchApp;
  let port: number;
  const metrics = createMetrics();

  const reading = (id: string, valueStd: number, ts?: number) => readingNow(f.registry, id, valueStd, ts);
  const feed = (rs: Reading[]) => feedApp(f, rs);

  beforeAll(async () => {
    f = await startApp('hw-ws-', { rules: true, metrics, listen: true, settings: { heartbeatMs: 200 } });
    ({ rules, hw, port } = f);
  });
  afterAll(() => stopApp(f));

  it('sends live readings of the sensors a user subscribed to, and refuses sensors outside their scope', async () => {
    const sock = await openSocket(port, await login(port, 'township'));
    sock.ws.send(JSON.stringify({ type: 'subscribe-readings', sensors: ['cement-liguo.noise-1', 'chem-dawu.h2s-1', 'no-such-sensor'] }));
    const sub = await waitFor(() => sock.messages.find((m) => m.type === 'subscribed'), { what: 'subscribed' });
    expect(sub).toMatchObject({ sensors: ['cement-liguo.noise-1'], refused: ['chem-dawu.h2s-1', 'no-such-sensor'] });
    await feed([reading('cement-liguo.noise-1', 78), reading('chem-dawu.h2s-1', 1), reading('cement-liguo.so2-1', 1)]);
    const live = await waitFor(() => sock.messages.find((m) => m.type === 'readings'), { what: 'live readings' });
    if (live.type !== 'readings') throw new Error('unreachable');
    expect(live.readings.map((r) => [r.sensorId, r.valueStd])).toEqual([['cement-liguo.noise-1', 78]]);
    sock.ws.send('{not json');
    sock.ws.send(JSON.stringify({ type: 'subscribe-readings', sensors: 'all' }));
    const errors = await waitFor(() => { const e = sock.messages.filter((m) => m.type === 'error'); return e.length >= 2 ? e : undefined; }, { what: 'two errors' });
    expect(errors.map((e) => (e.type === 'error' ? e.message : ''))).toEqual(['message is not JSON', 'sensors must be an array of at most 500 sensor ids']);
    // Every reading that reached the socket belongs to the inspector's township.
    const seen = sock.messages.flatMap((m) => (m.type === 'readings' ? m.readings.map((r) => r.sensorId) : []));
    expect(seen.every((id) => id.startsWith('cement-liguo.') || id.startsWith('foundry-liguo.'))).toBe(true);
    sock.close();
  });

  it('sends heartbeats carrying the last event id', async () => {
    const sock = await openSocket(port, await login(port, 'city'));
    const beats = await waitFor(() => { const b = sock.messages.filter((m) => m.type === 'heartbeat'); return b.length >= 2 ? b : undefined; }, { what: 'two heartbeats' });
    expect(beats[0]).toMatchObject({ type: 'heartbeat', lastEventId: expect.stringMatching(/^\d+-\d+$/) });
    sock.close();
  });

  it('replays exactly the alerts missed while disconnected, when the client reconnects with its last event id', async () => {
    const token = await login(port, 'township');
    const witness = await openSocket(port, token); // stays connected throughout
    const first = await openSocket(port, token);
    await feed([reading('cement-liguo.dust-resp-1', 9)]);
    await waitFor(() => first.messages.find((m) => m.type === 'alert' && m.event.alert.sensorId === 'cement-liguo.dust-resp-1'), { what: 'the first alert' });
    await new Promise((r) => setTimeout(r, 100));
    const lastSeen = first.messages.flatMap((m) => (m.type === 'alert' ? [m.eventId] : [])).sort(compareIds).at(-1)!;
    first.close();
    // While it is away: a foreign alert, then two of its own.
    await feed([reading('chem-dawu.h2s-1', 30), reading('foundry-liguo.co-1', 500), reading('cement-liguo.so2-1', 60)]);
    await new Promise((r) => setTimeout(r, 100));
    const missed = witness.messages.flatMap((m) => (m.type === 'alert' && compareIds(m.eventId, lastSeen) > 0 ? [m] : []));
    expect(new Set(missed.map((m) => m.event.alert.sensorId))).toEqual(new Set(['foundry-liguo.co-1', 'cement-liguo.so2-1']));
    const again = await openSocket(port, token, lastSeen);
    await waitFor(() => again.messages.filter((m) => m.type === 'alert').length >= missed.length || undefined, { what: 'replayed alerts' });
    await new Promise((r) => setTimeout(r, 200));
    const replayed = again.messages.flatMap((m) => (m.type === 'alert' ? [m] : []));
    // Exactly what a client that never left received after that id: same events, same order.
    expect(replayed.map((m) => [m.eventId, m.event.kind, m.event.alertId])).toEqual(missed.map((m) => [m.eventId, m.event.kind, m.event.alertId]));
    expect(again.messages.some((m) => m.type === 'snapshot')).toBe(false);
    again.close();
    witness.close();
  });

  it('disconnects a client that stops reading, and keeps serving the others in full', async () => {
    const slow = await openSocket(port, await login(port, 'city'));
    const fast = await openSocket(port, await login(port, 'city'));
    const closed = new Promise<void>((resolve) => slow.ws.once('close', () => resolve()));
    // The slow client stops reading from its TCP socket.
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const template = rules.activeAlerts().find((a) => a.enterpriseId === 'cement-liguo')!;
    const note = 'x'.repeat(200_000);
    const before = fast.messages.length;
    for (let i = 0; i < 150; i++) {
      const e: AlertEvent = { alertId: template.id, kind: 'commented', ts: Date.now(), alert: template, by: 'load', note };
      hw.publishAlertEvent(e);
      await new Promise((r) => setImmediate(r));
    }
    // The server gave up on it (the paused client cannot even read the close)...
    await waitFor(async () => ((await metrics.wsDropped.get()).values[0]?.value ?? 0) >= 1 || undefined, { timeoutMs: 30_000, what: 'the slow client dropped' });
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await closed;
    // ...while the other client got every event (counted by their author: the engine's own
    // events, such as a dead-man alert on a slow machine, may arrive in between).
    const loadEvents = () => fast.messages.slice(before).filter((m) => m.type === 'alert' && m.event.by === 'load');
    await waitFor(() => loadEvents().length >= 150 || undefined, { timeoutMs: 30_000, what: 'all 150 events at the fast client' });
    await new Promise((r) => setTimeout(r, 100));
    expect(loadEvents()).toHaveLength(150);
    expect(fast.ws.readyState).toBe(fast.ws.OPEN);
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(text).toMatch(/^hw_ws_dropped_total [1-9]/m);
    fast.close();
  });

  it('samples live readings for a client that falls behind, tells it how many it missed, and keeps it connected', async () => {
    const sock = await openSocket(port, await login(port, 'city'));
    sock.ws.send(JSON.stringify({ type: 'subscribe-readings', sensors: ['coal-liuxin.noise-1'] }));
    await waitFor(() => sock.messages.find((m) => m.type === 'subscribed'), { what: 'subscribed' });
    const raw = (sock.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    raw.pause();
    // ~25 MB of readings while it reads nothing: far past the kernel buffers and the sampling threshold.
    const t0 = Date.now() - 3600_000;
    for (let k = 0; k < 500; k++) {
      hw.onReadings(Array.from({ length: 500 }, (_, i) => reading('coal-liuxin.noise-1', 70 + (i % 10), t0 + k * 500 + i)));
      await new Promise((r) => setImmediate(r));
    }
    raw.resume();
    // Once it has caught up, the next readings come with a notice of what was skipped.
    await waitFor(() => sock.messages.filter((m) => m.type === 'readings').length >= 2 || undefined, { what: 'the buffered readings' });
    await new Promise((r) => setTimeout(r, 500));
    hw.onReadings([reading('coal-liuxin.noise-1', 75)]);
    const notice = await waitFor(() => sock.messages.find((m) => m.type === 'notice'), { timeoutMs: 10_000, what: 'the readings-dropped notice' });
    if (notice.type !== 'notice') throw new Error('unreachable');
    const delivered = sock.messages.reduce((n, m) => n + (m.type === 'readings' ? m.readings.length : 0), 0);
    expect(notice.dropped).toBeGreaterThan(0);
    // Every reading was either delivered or counted in the notice: none vanished silently.
    await waitFor(() => sock.messages.reduce((n, m) => n + (m.type === 'readings' ? m.readings.length : 0), 0) === 500 * 500 + 1 - notice.dropped || undefined, { what: 'delivered + dropped = sent' });
    expect(delivered).toBeGreaterThan(0);
    expect(sock.ws.readyState).toBe(sock.ws.OPEN);
    sock.close();
  });
});
