import { rmSync } from 'node:fs';
import type { Catalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { createMetrics, type Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import { createSqliteStore } from '../../core/src/store/sqlite-store.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Reading } from '../../core/src/types.ts';
import { createRulesEngine, type RulesEngine } from '../../rules/src/engine.ts';
import { demo, tempDir } from '../../test/fixtures.ts';
import { buildApp, type AppOptions, type HazardwatchApp } from '../src/app.ts';

/** What an API test may set on the app; the wiring (registry, store, logger, actions) is the fixture's. */
export type AppSettings = Partial<Pick<AppOptions, 'sessionTtlMs' | 'sessions' | 'heartbeatMs' | 'loginThrottle' | 'dashboardDir'>>;

/** The demo registry and catalogue, a started store in a new temp dir, and the apps built on it. */
export interface StoreFixture {
  dir: string;
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  /** Every app built on the store (appOn), closed by stopApp in this order. */
  apps: HazardwatchApp[];
  rules?: RulesEngine;
}

/** A started store (SQLite in the temp dir unless `store` makes another) for the demo registry. */
export async function startStore(prefix: string, store?: (dir: string) => Store): Promise<StoreFixture> {
  const dir = tempDir(prefix);
  const { registry, catalogue } = demo();
  const s = store ? store(dir) : createSqliteStore(dir, silentLogger());
  await s.start();
  return { dir, registry, catalogue, store: s, apps: [] };
}

/**
 * An app (not ready) on the fixture's store, silent, serving the temp dir as its dashboard,
 * with a 60-s session TTL unless `settings` says otherwise. With `rules`, the engine gives
 * the app its insights and runs its alert actions; without, actions do nothing. With
 * `registry`, the app has its own registry (another replica, which reloads on its own).
 */
export function appOn(f: StoreFixture, o: { metrics?: Metrics; rules?: RulesEngine; settings?: AppSettings; registry?: RegistryHolder } = {}): HazardwatchApp {
  const rules = o.rules;
  const hw = buildApp({
    registry: o.registry ?? f.registry, store: f.store, catalogue: f.catalogue, logger: silentLogger(), metrics: o.metrics ?? createMetrics(),
    ...(rules ? { insights: rules, actions: { run: (cmd) => rules.command(cmd) ?? null } } : { actions: { run: () => null } }),
    sessionTtlMs: 60_000, dashboardDir: f.dir, ...o.settings,
  });
  f.apps.push(hw);
  return hw;
}

export interface AppFixtureOptions {
  /** Makes the store (not started); defaults to SQLite in the temp dir. */
  store?: (dir: string) => Store;
  /** Shared by the app and the rules engine; defaults to new metrics. */
  metrics?: Metrics;
  /** Runs the real rules engine (30-s clear hold), its alert events published by the app. */
  rules?: boolean;
  /** Loads the stored alert history before starting. */
  loadHistory?: boolean;
  /** Listens on a free port of 127.0.0.1 (port, base); otherwise ready for inject() only. */
  listen?: boolean;
  settings?: AppSettings;
}

export interface AppFixture extends StoreFixture {
  hw: HazardwatchApp;
  metrics: Metrics;
  /** The listening port and http://127.0.0.1:port, with `listen` (0 and '' without). */
  port: number;
  base: string;
}

/** A store, optionally the rules engine, and a started app on them. */
export async function startApp(prefix: string, o: AppFixtureOptions & { rules: true }): Promise<AppFixture & { rules: RulesEngine }>;
export async function startApp(prefix: string, o?: AppFixtureOptions): Promise<AppFixture>;
export async function startApp(prefix: string, o: AppFixtureOptions = {}): Promise<AppFixture> {
  const f = await startStore(prefix, o.store);
  const metrics = o.metrics ?? createMetrics();
  let hw: HazardwatchApp | undefined;
  const rules = o.rules
    ? createRulesEngine({ registry: f.registry, catalogue: f.catalogue, store: f.store, logger: silentLogger(), metrics, onAlertEvent: (e) => hw!.publishAlertEvent(e) }, { clearHoldMs: 30_000 })
    : undefined;
  hw = appOn(f, { metrics, rules, settings: o.settings });
  if (o.loadHistory) await hw.loadHistory();
  if (rules) await rules.start();
  let port = 0;
  if (o.listen) {
    await hw.app.listen({ host: '127.0.0.1', port: 0 });
    port = (hw.app.server.address() as { port: number }).port;
  } else {
    await hw.app.ready();
  }
  return { ...f, rules, hw, metrics, port, base: port ? `http://127.0.0.1:${port}` : '' };
}

/**
 * Stops the rules engine, closes every app, stops the store and removes the temp dir; nothing
 * when the fixture never started (a failed beforeAll then reports its own error alone).
 */
export async function stopApp(f: StoreFixture | undefined): Promise<void> {
  if (!f) return;
  await f.rules?.stop();
  for (const a of f.apps) await a.app.close();
  await f.store.stop();
  rmSync(f.dir, { recursive: true, force: true });
}

/** Bearer tokens of `users` (password hazardwatch), logged in through inject(). */
export async function tokensFor(hw: HazardwatchApp, users: Iterable<string>): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  for (const u of users) {
    const res = await hw.app.inject({ method: 'POST', url: '/api/login', payload: { username: u, password: 'hazardwatch' } });
    tokens[u] = (res.json() as { token: string }).token;
  }
  return tokens;
}

/** A reading of a registry sensor in its standard unit, taken now unless `ts` says when. */
export function readingNow(registry: RegistryHolder, id: string, valueStd: number, ts = Date.now()): Reading {
  const s = registry.current.sensors.get(id)!;
  return { enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, sensorId: id, agent: s.agent, ts, value: valueStd, unit: s.agentDef.unit, valueStd };
}

/** Readings through the rules engine and the app, as ingest hands them over, then the engine's writes flushed. */
export async function feed(f: { rules: RulesEngine; hw: HazardwatchApp }, rs: Reading[]): Promise<void> {
  f.rules.handleReadings(rs);
  f.hw.onReadings(rs);
  await f.rules.flush();
}
