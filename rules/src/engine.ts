import type { Catalogue } from '../../core/src/agents.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Alert, AlertEvent, Reading } from '../../core/src/types.ts';
import { createAlertManager } from './alert-manager.ts';
import { checkInstant } from './instant-limits.ts';

export interface RulesConfig {
  /** Hysteresis hold before an alert clears, ms. */
  clearHoldMs: number;
}

export interface RulesDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** Every alert event, after it is handed to the store (the API pushes these). */
  onAlertEvent?: (e: AlertEvent) => void;
  now?: () => number;
}

export interface RulesEngine {
  start(): Promise<void>;
  handleReadings(readings: readonly Reading[]): void;
  acknowledge(alertId: string, by: string, note: string): AlertEvent | undefined;
  activeAlerts(): Alert[];
  /** Resolves once every event so far is stored. */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export function createRulesEngine(deps: RulesDeps, config: RulesConfig): RulesEngine {
  const log = deps.logger.child({ module: 'rules' });
  const now = deps.now ?? Date.now;
  let unsaved: AlertEvent[] = [];
  let saving: Promise<void> = Promise.resolve();

  const save = () => {
    saving = saving.then(async () => {
      if (unsaved.length === 0) return;
      const batch = unsaved;
      unsaved = [];
      try {
        await deps.store.writeAlertEvents(batch);
      } catch (err) {
        unsaved = batch.concat(unsaved);
        log.warn({ err: (err as Error).message, events: batch.length }, 'alert events not stored yet; will retry');
        setTimeout(save, 1000).unref();
      }
    });
    return saving;
  };

  const alerts = createAlertManager({
    clearHoldMs: config.clearHoldMs,
    now,
    onEvent(e) {
      unsaved.push(e);
      void save();
      if (e.kind === 'raised') deps.metrics.alertsRaised.inc({ level: e.alert.level });
      deps.metrics.alertsOpen.set(alerts.active().length);
      deps.onAlertEvent?.(e);
    },
  });

  return {
    async start() {
      // Restart: reopen what was open, never twice (alert-manager.restore keys by sensor+rule).
      const events = await deps.store.queryAlertEvents({ since: now() - 30 * 24 * 3600_000 });
      alerts.restore(events);
      log.info({ restored: alerts.active().length }, 'rules engine ready');
    },
    handleReadings(readings) {
      const registry = deps.registry.current;
      for (const r of readings) {
        const sensor = registry.sensors.get(r.sensorId);
        if (!sensor) continue;
        const limits = deps.catalogue.limits(sensor.profileId, sensor.agent);
        const { fired, calmRules } = checkInstant(sensor.agentDef, limits, r.valueStd);
        const base = { sensorId: r.sensorId, enterpriseId: r.enterpriseId, gatewayId: r.gatewayId, agent: r.agent, townshipId: sensor.townshipId };
        // Readings carry the sensor's clock; the alert lifecycle runs on the server clock.
        if (fired) alerts.fire({ ...base, rule: fired.rule, level: fired.level, reason: fired.reason });
        for (const rule of calmRules) alerts.calm(r.sensorId, rule);
      }
    },
    acknowledge: (alertId, by, note) => alerts.acknowledge(alertId, by, note),
    activeAlerts: () => alerts.active(),
    flush: () => save(),
    async stop() {
      await save();
    },
  };
}
