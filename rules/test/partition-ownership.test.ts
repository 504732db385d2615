import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fnv1a } from '../../core/src/fnv1a.ts';
import { limitsInForce } from '../../core/src/limits-in-force.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics, type Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder, SensorEntry } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { AlertEvent, Reading } from '../../core/src/types.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import type { RulesEngine } from '../src/engine.ts';
import { createInsightsPublisher } from '../src/live-insights.ts';
import type { LiveInsights } from '../../core/src/pipeline-events.ts';
import type { ForeignKind } from '../src/ownership.ts';
import { engineOn, readingOf, startEngine, stopEngine } from './engine-fixture.ts';

/**
 * Issue 13: rules workers of the split deployment each own the enterprises of their stream
 * partitions (FNV-1a of the enterprise id mod P). Two workers here, P = 2, over one real
 * SQLite store; the demo registry puts three enterprises on each side.
 */
const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 Asia/Shanghai
const P = 2;
const partitionOf = (enterpriseId: string) => fnv1a(enterpriseId) % P;
const ownsPartition = (k: number) => (enterpriseId: string) => partitionOf(enterpriseId) === k;
const { registry, catalogue } = demo();
const reading = readingOf(registry);
const allSensors = [...registry.current.sensors.values()];
const sensorsOf = (k: number) => allSensors.filter((s) => partitionOf(s.enterpriseId) === k);
const enterprisesOf = (k: number) => [...registry.current.enterprises.keys()].filter((e) => partitionOf(e) === k);
/** The first enterprise of the other partition: the one whose readings a worker gets by mistake. */
const strayEnterpriseFor = (k: number) => enterprisesOf(1 - k)[0]!;
const STEP_MS = 10_000;
const STEPS = 20;

/** A level that raises alerts in every enterprise (a MAC, forecasts, the radon mean): 3 × its highest limit, noise at 100 dB(A). */
const levelOf = (s: SensorEntry) => {
  const l = limitsInForce(catalogue, s.profileId, s.agentDef)!;
  if (s.agentDef.kind === 'noise') return 100;
  if (s.agentDef.kind === 'radon') return 10 * l.reference!.value;
  return 3 * Math.max(l.mac?.value ?? 0, l.pcStel?.value ?? 0, l.pcTwa?.value ?? 0);
};
const batchAt = (sensors: readonly SensorEntry[], ts: number): Reading[] => sensors.map((s) => reading(s.id, ts, levelOf(s)));
const keyOf = (e: AlertEvent) => `${e.alert.sensorId} ${e.alert.rule}`;
const raisedKeys = (events: readonly AlertEvent[]) => events.filter((e) => e.kind === 'raised').map(keyOf).sort();

async function foreignCount(metrics: Metrics, kind: ForeignKind): Promise<number> {
  return (await metrics.rulesForeign.get()).values.find((v) => v.labels.kind === kind)?.value ?? 0;
}

/** The events of one engine owning every enterprise (the one-process deployment), fed every sensor's level for `steps` steps from T0, never restarted. */
async function oneEngineOwningAll(steps: number): Promise<AlertEvent[]> {
  let clock = T0;
  const events: AlertEvent[] = [];
  const ref = await startEngine('hw-rules-owns-ref-', { registry, catalogue, now: () => clock, onAlertEvent: (e) => events.push(e) });
  for (let i = 0; i < steps; i++) ref.engine.handleReadings(batchAt(allSensors, (clock = T0 + i * STEP_MS)));
  await stopEngine(ref);
  return events;
}

interface Worker {
  index: number;
  engine: RulesEngine;
  events: AlertEvent[];
  metrics: Metrics;
  /** Sensors whose readings the engine asked the store for (its rebuild at start). */
  queried: string[];
}

describe('rules workers owning partitions (two engines, complementary owns, one real SQLite store)', () => {
  let dir: string;
  let store: Store;
  let clock: number;
  let workers: Worker[];
  let reg: RegistryHolder;

  const makeWorker = (index: number): Worker => {
    const w: Worker = { index, events: [], metrics: createMetrics(), queried: [] } as unknown as Worker;
    // The real store, with its reading queries recorded: what the worker rebuilds from.
    const recorded: Store = { ...store, queryReadings: (q) => (w.queried.push(q.sensorId), store.queryReadings(q)) };
    w.engine = engineOn(recorded, { registry: reg, catalogue, now: () => clock, onAlertEvent: (e) => w.events.push(e), owns: ownsPartition(index), metrics: w.metrics });
    return w;
  };
  const startWorkers = async () => {
    workers = [makeWorker(0), makeWorker(1)];
    for (const w of workers) await w.engine.start();
  };

  beforeEach(async () => {
    clock = T0;
    reg = registry;
    dir = tempDir('hw-rules-owns-');
    store = createSqliteStore(dir, silentLogger());
    await store.start();
    await startWorkers();
  });
  afterEach(async () => {
    for (const w of workers) await w.engine.stop();
    await store.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** STEPS batches to each worker: its own sensors' readings mixed with those of one enterprise of the other partition. Returns every reading sent. */
  const feedOwnAndStray = (from = T0) => {
    const sent: Reading[] = [];
    for (let i = 0; i < STEPS; i++) {
      clock = from + i * STEP_MS;
      for (const w of workers) {
        const stray = allSensors.filter((s) => s.enterpriseId === strayEnterpriseFor(w.index));
        const batch = batchAt([...sensorsOf(w.index), ...stray], clock);
        w.engine.handleReadings(batch);
        sent.push(...batch);
      }
    }
    return sent;
  };

  it('each worker raises exactly the alerts of its own enterprises (those one engine owning all raises for them), and ignores and counts readings of the others', async () => {
    // The one-process engine over the same readings: what the two workers must split between them.
    const refEvents = await oneEngineOwningAll(STEPS);
    feedOwnAndStray();
    for (const w of workers) {
      const mine = ownsPartition(w.index);
      const expected = raisedKeys(refEvents.filter((e) => mine(e.alert.enterpriseId)));
      // Every one of its enterprises raised something: the comparison is not over nothing.
      expect(new Set(refEvents.filter((e) => mine(e.alert.enterpriseId)).map((e) => e.alert.enterpriseId))).toEqual(new Set(enterprisesOf(w.index)));
      expect(raisedKeys(w.events), `worker ${w.index}`).toEqual(expected);
      expect(w.events.every((e) => mine(e.alert.enterpriseId))).toBe(true);
      const strays = allSensors.filter((s) => s.enterpriseId === strayEnterpriseFor(w.index));
      expect(await foreignCount(w.metrics, 'readings')).toBe(STEPS * strays.length);
      expect(w.engine.status().evaluated).toBe(STEPS * sensorsOf(w.index).length);
      // Exposure and grades: the owner has them, the other worker none (not an empty one).
      const own = sensorsOf(w.index).find((s) => s.agent === 'gas.h2s') ?? sensorsOf(w.index)[0]!;
      expect(w.engine.exposure(own.id)).toBeDefined();
      expect(w.engine.grade(own.id)).toBeDefined();
      expect(w.engine.enterpriseGrade(own.enterpriseId)).toBeDefined();
      expect(w.engine.exposure(strays[0]!.id)).toBeUndefined();
      expect(w.engine.grade(strays[0]!.id)).toBeUndefined();
      expect(w.engine.enterpriseGrade(strayEnterpriseFor(w.index))).toBeUndefined();
    }
    // Together they raised what the one engine raised, each alert once.
    expect(raisedKeys([...workers[0]!.events, ...workers[1]!.events])).toEqual(raisedKeys(refEvents));
  });

  it('rejections and gateway presence of another worker\'s enterprise are ignored and counted; a command on its alert is not answered', async () => {
    const [w0, w1] = workers as [Worker, Worker];
    const own = sensorsOf(0)[0]!;
    const stray = sensorsOf(1)[0]!;
    // 10 out-of-range readings within 10 min make a fault-out-of-range (sensor-faults.ts).
    for (let i = 0; i < 10; i++) {
      clock = T0 + i * 1000;
      w0.engine.handleRejections([{ code: 'HW_ERR_OUT_OF_RANGE', message: 'out of range', sensor: own.id }, { code: 'HW_ERR_OUT_OF_RANGE', message: 'out of range', sensor: stray.id }], clock);
    }
    w0.engine.handlePresence({ enterpriseId: own.enterpriseId, gatewayId: own.gatewayId, online: false, ts: clock });
    w0.engine.handlePresence({ enterpriseId: stray.enterpriseId, gatewayId: stray.gatewayId, online: false, ts: clock });
    expect(w0.events.map((e) => [e.kind, e.alert.rule, e.alert.enterpriseId])).toEqual([
      ['raised', 'fault-out-of-range', own.enterpriseId],
      ['raised', 'gateway-offline', own.enterpriseId],
    ]);
    expect(await foreignCount(w0.metrics, 'rejections')).toBe(10);
    expect(await foreignCount(w0.metrics, 'presence')).toBe(1);

    // The owner of the other enterprise gets its presence and raises; each answers commands on its own alerts only.
    w1.engine.handlePresence({ enterpriseId: stray.enterpriseId, gatewayId: stray.gatewayId, online: false, ts: clock });
    const theirs = w1.events.find((e) => e.alert.rule === 'gateway-offline')!;
    const mine = w0.events.find((e) => e.alert.rule === 'gateway-offline')!;
    expect(w0.engine.command({ op: 'ack', alertId: theirs.alertId, by: 'officer', note: 'seen' })).toBeUndefined();
    expect(w0.engine.acknowledge(theirs.alertId, 'officer', 'seen')).toBeUndefined();
    expect(w1.engine.command({ op: 'ack', alertId: mine.alertId, by: 'officer', note: 'seen' })).toBeUndefined();
    expect(w1.engine.command({ op: 'ack', alertId: theirs.alertId, by: 'officer', note: 'seen' })).toMatchObject({ kind: 'acknowledged', alert: { state: 'acknowledged' } });
    expect(w0.engine.command({ op: 'resolve', alertId: mine.alertId, by: 'officer', reason: 'false-alarm', note: 'test' })).toMatchObject({ kind: 'resolved' });
  });

  it('dead-man: a sensor of another worker\'s enterprise that goes silent raises nothing there; its owner raises it', () => {
    const [w0, w1] = workers as [Worker, Worker];
    const silentOne = sensorsOf(1)[0]!; // interval 2 s: timeout max(15 s, 5 × 2 s) = 15 s
    // Every sensor reports every 2 s to both workers (half of it misrouted) for 30 s; then one stops for 60 s more.
    for (let i = 0; i <= 45; i++) {
      clock = T0 + i * 2000;
      const reporting = i <= 15 ? allSensors : allSensors.filter((s) => s !== silentOne);
      for (const w of workers) {
        w.engine.handleReadings(batchAt(reporting, clock));
        w.engine.tick();
      }
    }
    const deadMan = (w: Worker) => w.events.filter((e) => e.alert.rule === 'dead-man').map((e) => [e.kind, e.alert.sensorId]);
    expect(deadMan(w1)).toEqual([['raised', silentOne.id]]);
    expect(deadMan(w0)).toEqual([]);
    expect(w0.events.filter((e) => partitionOf(e.alert.enterpriseId) !== 0)).toEqual([]);
  });

  it('after a restart each worker rebuilds only its own sensors and alerts, and raises nothing twice for a condition still there', async () => {
    const sent = feedOwnAndStray();
    await store.writeReadings(sent.filter((r, i, all) => all.findIndex((x) => x.sensorId === r.sensorId && x.ts === r.ts) === i)); // what ingest stored: each reading once
    const before = workers.map((w) => ({
      active: w.engine.activeAlerts().map((a) => a.id).sort(),
      exposure: new Map(sensorsOf(w.index).map((s) => [s.id, w.engine.exposure(s.id)!.twa8h])),
    }));
    for (const w of workers) {
      expect(before[w.index]!.active.length).toBeGreaterThan(0);
      await w.engine.stop();
    }

    await startWorkers();
    for (const w of workers) {
      expect([...new Set(w.queried)].sort()).toEqual(sensorsOf(w.index).map((s) => s.id).sort());
      expect(w.engine.activeAlerts().map((a) => a.id).sort()).toEqual(before[w.index]!.active);
      for (const [id, twa8h] of before[w.index]!.exposure) expect(w.engine.exposure(id)!.twa8h, id).toBeCloseTo(twa8h, 9);
      for (const s of sensorsOf(1 - w.index)) expect(w.engine.exposure(s.id)).toBeUndefined();
    }
    // The same levels go on. An engine that never restarted raises, in this second half, only
    // limits newly crossed (a 15-min STEL filling up, a noise dose adding up): so do the
    // restarted owners, and no alert still active from before is raised again.
    const uninterrupted = (await oneEngineOwningAll(2 * STEPS)).filter((e) => e.ts >= T0 + STEPS * STEP_MS);
    feedOwnAndStray(T0 + STEPS * STEP_MS);
    for (const w of workers) {
      const mine = ownsPartition(w.index);
      expect(raisedKeys(w.events), `worker ${w.index}`).toEqual(raisedKeys(uninterrupted.filter((e) => mine(e.alert.enterpriseId))));
      const activeBefore = new Set(before[w.index]!.active);
      expect(w.events.filter((e) => e.kind === 'raised' && activeBefore.has(e.alertId))).toEqual([]);
      const stillActive = w.engine.activeAlerts().map((a) => a.id);
      expect(before[w.index]!.active.filter((id) => stillActive.includes(id)).length).toBeGreaterThan(0);
      expect(w.engine.activeAlerts().every((a) => mine(a.enterpriseId))).toBe(true);
    }
  });

  it('a registry reload (SIGHUP) keeps the predicate: the reloaded registry\'s sensors of other enterprises stay ignored, dead-man included', async () => {
    for (const w of workers) await w.engine.stop();
    reg = demo().registry; // a holder of its own, so the reload reaches no other test
    await startWorkers();
    const [w0] = workers as [Worker, Worker];
    reg.reload(demo().registry.current);
    clock = T0 + 1000;
    w0.engine.handleReadings(batchAt(allSensors, clock));
    expect(await foreignCount(w0.metrics, 'readings')).toBe(sensorsOf(1).length);
    expect(new Set(w0.events.map((e) => e.alert.enterpriseId))).toEqual(new Set(enterprisesOf(0)));
    // 20 s later none has reported again: every own sensor is silent, no other one is.
    clock = T0 + 21_000;
    w0.engine.tick();
    expect(w0.events.filter((e) => e.alert.rule === 'dead-man').map((e) => e.alert.sensorId).sort()).toEqual(sensorsOf(0).map((s) => s.id).sort());
  });

  it('the live-insights publisher of a worker sends only its own sensors and enterprises, so it never blanks the other worker\'s', () => {
    const [w0] = workers as [Worker, Worker];
    const sent: LiveInsights[] = [];
    const insights = createInsightsPublisher({ engine: w0.engine, registry, publish: (s) => sent.push(s), owns: ownsPartition(0), now: () => clock });
    const batch = batchAt(allSensors, (clock = T0 + 1000));
    w0.engine.handleReadings(batch);
    insights.touched(batch);
    insights.tick(); // the first snapshot is a full one: every sensor of the registry it owns
    expect(sent.flatMap((s) => s.sensors.map((x) => x.sensorId)).sort()).toEqual(sensorsOf(0).map((s) => s.id).sort());
    expect(sent.flatMap((s) => s.enterprises.map((x) => x.enterpriseId)).sort()).toEqual(enterprisesOf(0).sort());
    expect(sent.flatMap((s) => s.sensors).every((x) => x.exposure !== null)).toBe(true);
    // Readings of the other partition only: nothing changed here, nothing to send.
    sent.length = 0;
    insights.touched(batchAt(sensorsOf(1), (clock = T0 + 3000)));
    insights.tick();
    expect(sent).toEqual([]);
  });
});
