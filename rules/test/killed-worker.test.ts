import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics } from '../../core/src/metrics.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { waitFor } from '../../test/ports.ts';
import { createRulesEngine, type RulesDeps, type RulesEngine } from '../src/engine.ts';
import { readingOf } from './engine-fixture.ts';

/**
 * Found by the rules-worker drill (test/e2e/drills-distributed.test.ts): a worker killed
 * (-9) just after it raised an alert. The raise was in the alert event stream (the
 * dashboards showed it) but not yet in the store; its successor rebuilt from the store
 * alone, did not know the alert was open, and raised it a second time under a new id
 * (acknowledging stream entries only after the store write does not help: the event is
 * in the stream before that). Now an event is stored only once the stream holds it, and a
 * starting worker restores what the stream holds and the store lacks.
 */
const T0 = Date.UTC(2026, 10, 23, 1, 0, 0); // 09:00 Asia/Shanghai, in the day shift
const SENSOR = 'chem-dawu.h2s-1';
const { registry, catalogue } = demo();
const reading = readingOf(registry);
/** H2S MAC 10 mg/m3 (GBZ 2.1-2019): 30 is red on the first reading. */
const over = (ts: number) => [reading(SENSOR, ts, 30)];

describe('a rules worker killed (-9) and restarted', () => {
  let dir: string;
  let store: Store;
  let clock: number;
  /** The alert event stream of the distributed transport, as the workers see it. */
  let stream: AlertEvent[];
  const engines: RulesEngine[] = [];

  const engine = (deps: Partial<RulesDeps>) => {
    const e = createRulesEngine({ registry, catalogue, store, logger: silentLogger(), metrics: createMetrics(), now: () => clock, ...deps }, { clearHoldMs: 60_000 });
    engines.push(e);
    return e;
  };

  beforeEach(async () => {
    dir = tempDir('hw-rules-killed-');
    store = createSqliteStore(dir, silentLogger());
    await store.start();
    clock = T0;
    stream = [];
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.stop().catch(() => {});
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an alert event only once the stream holds it (so a kill between the two leaves it in the stream)', async () => {
    let hold!: () => void;
    const held = new Promise<void>((r) => (hold = r));
    const first = engine({ onAlertEvent: (e) => held.then(() => void stream.push(e)) });
    await first.start();
    first.handleReadings(over(clock));
    // Give the store every chance to be written early: it must not be.
    await new Promise((r) => setImmediate(r));
    expect(await store.queryAlertEvents({ since: 0 })).toEqual([]);
    hold();
    await first.flush();
    const stored = await store.queryAlertEvents({ since: 0 });
    expect(stored.map((e) => [e.alert.sensorId, e.alert.rule, e.kind])).toEqual([[SENSOR, 'mac', 'raised']]);
    expect(stream).toEqual(stored);
  });

  it('killed after publishing an alert and before storing it: its successor restores the alert from the stream, raises nothing twice and stores the event', async () => {
    // The first worker publishes, then dies before its store write lands (the write never returns).
    const dying = { ...store, writeAlertEvents: () => new Promise<void>(() => {}) } as Store;
    const first = createRulesEngine({ registry, catalogue, store: dying, logger: silentLogger(), metrics: createMetrics(), now: () => clock, onAlertEvent: (e) => void stream.push(e) }, { clearHoldMs: 60_000 });
    await first.start();
    first.handleReadings(over(clock));
    expect(stream.map((e) => e.kind)).toEqual(['raised']);
    expect(await store.queryAlertEvents({ since: 0 })).toEqual([]);

    clock += 10_000;
    const events: AlertEvent[] = [];
    const second = engine({ onAlertEvent: (e) => void events.push(e), streamedAlertEvents: async (since) => stream.filter((e) => e.ts >= since) });
    await second.start();
    expect(second.activeAlerts().map((a) => a.id)).toEqual([stream[0]!.alertId]);
    second.handleReadings(over(clock));
    expect(events).toEqual([]);
    // The store has the event now, so a later restart needs the stream no more.
    await waitFor(async () => (await store.queryAlertEvents({ since: 0 })).length === 1 || undefined, { what: 'the event in the store' });
    expect((await store.queryAlertEvents({ since: 0 }))[0]).toEqual(stream[0]);
  });

  it('control: with no stream to restore from, the same kill makes the successor raise again (what the test above guards against)', async () => {
    const dying = { ...store, writeAlertEvents: () => new Promise<void>(() => {}) } as Store;
    const first = createRulesEngine({ registry, catalogue, store: dying, logger: silentLogger(), metrics: createMetrics(), now: () => clock, onAlertEvent: (e) => void stream.push(e) }, { clearHoldMs: 60_000 });
    await first.start();
    first.handleReadings(over(clock));
    clock += 10_000;
    const events: AlertEvent[] = [];
    const second = engine({ onAlertEvent: (e) => void events.push(e) });
    await second.start();
    second.handleReadings(over(clock));
    expect(events.map((e) => e.kind)).toEqual(['raised']);
  });
});
