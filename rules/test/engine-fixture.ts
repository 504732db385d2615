import { rmSync } from 'node:fs';
import { afterEach, beforeEach } from 'vitest';
import type { Catalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics, type Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { AlertEvent, Reading } from '../../core/src/types.ts';
import { tempDir } from '../../test/fixtures.ts';
import { createRulesEngine, type RulesConfig, type RulesEngine } from '../src/engine.ts';

/** What a rules test injects: the registry, the clock and where alert events go. */
export interface EngineOptions {
  registry: RegistryHolder;
  catalogue: Catalogue;
  now: () => number;
  onAlertEvent?: (e: AlertEvent) => void;
  /** Defaults to a 60-s clear hold. */
  config?: RulesConfig;
  /** The enterprises the engine owns (RulesDeps.owns); absent: all. */
  owns?: (enterpriseId: string) => boolean;
  /** Where its metrics go; defaults to a registry of its own. */
  metrics?: Metrics;
}

/** A rules engine on `store` (not started), silent, with metrics of its own: a restart makes another. */
export function engineOn(store: Store, o: EngineOptions): RulesEngine {
  return createRulesEngine({ registry: o.registry, catalogue: o.catalogue, store, logger: silentLogger(), metrics: o.metrics ?? createMetrics(), now: o.now, onAlertEvent: o.onAlertEvent, owns: o.owns }, o.config ?? { clearHoldMs: 60_000 });
}

export interface EngineFixture {
  dir: string;
  store: Store;
  engine: RulesEngine;
}

/** A real SQLite store in a new temp dir and a started engine on it. */
export async function startEngine(prefix: string, o: EngineOptions): Promise<EngineFixture> {
  const dir = tempDir(prefix);
  const store = createSqliteStore(dir, silentLogger());
  await store.start();
  const engine = engineOn(store, o);
  await engine.start();
  return { dir, store, engine };
}

/** Stops the engine (the fixture's current one), the store, and removes the temp dir. */
export async function stopEngine(f: EngineFixture): Promise<void> {
  await f.engine.stop();
  await f.store.stop();
  rmSync(f.dir, { recursive: true, force: true });
}

/** A reading of a registry sensor in its standard unit. */
export function readingOf(registry: RegistryHolder) {
  return (id: string, ts: number, valueStd: number, extra: Partial<Reading> = {}): Reading => {
    const s = registry.current.sensors.get(id)!;
    return { enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: id, agent: s.agent, ts, value: valueStd, unit: s.agentDef.unit, valueStd, ...extra };
  };
}

/** What a test of a started engine reads and moves: the clock, the events, the engine and its store. */
export interface EngineContext extends EngineFixture {
  clock: number;
  events: AlertEvent[];
  options: EngineOptions;
  /** Another engine on the same store and clock (a restart); `config` defaults to a 60-s clear hold. */
  make(config?: RulesConfig): RulesEngine;
}

/**
 * Registers beforeEach/afterEach for the calling describe block: each test gets a fresh
 * SQLite store and a started engine, the clock back at `t0` and no events.
 */
export function useEngine(prefix: string, o: { registry: RegistryHolder; catalogue: Catalogue; t0: number }): EngineContext {
  const ctx = { clock: o.t0, events: [] } as unknown as EngineContext;
  ctx.options = { registry: o.registry, catalogue: o.catalogue, now: () => ctx.clock, onAlertEvent: (e) => ctx.events.push(e) };
  ctx.make = (config) => engineOn(ctx.store, { ...ctx.options, config });
  beforeEach(async () => {
    ctx.clock = o.t0;
    ctx.events = [];
    Object.assign(ctx, await startEngine(prefix, ctx.options));
  });
  afterEach(() => stopEngine(ctx));
  return ctx;
}
