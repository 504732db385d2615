import type { ExcursionRule, NoiseRule } from '../../core/src/agents.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import { currentShift, type ShiftWindow } from '../../core/src/shifts.ts';
import type { ShiftRecord } from '../../core/src/store/store.ts';
import type { AlertEvent, AlertLevel, AlertReason } from '../../core/src/types.ts';
import { createAlertManager, type AlertManager } from './alert-manager.ts';
import { createDeadMan, type DeadMan } from './dead-man.ts';
import type { RulesConfig, RulesDeps } from './engine-types.ts';
import { DEFAULT_NOISE_RULE, doseRate } from './noise-dose.ts';
import { createOwnership, type Ownership } from './ownership.ts';
import type { PeakExcursionTracker } from './peak-excursions.ts';
import { createRetryingWriter, type RetryingWriter } from './retrying-writer.ts';
import { createFaultDetector } from './sensor-faults.ts';
import { ExposureWindow } from './window.ts';

/** What the engine keeps of one owned sensor. */
export interface SensorState {
  window: ExposureWindow;
  /** Recent (ts, value) for the trend, newest last, within the last 10 min. */
  recent: [number, number][];
  /** The shift this sensor's readings fall in, recorded at its end (shift-record.ts). */
  shift?: ShiftWindow;
  /** GBZ 2.1 peak excursions of a TWA-only agent (peak-excursions.ts). */
  excursions?: PeakExcursionTracker;
}

/** Shift records waiting for the store; past this many (a store down for days) the oldest are dropped, counted in the log. */
const SHIFT_RECORDS_MAX = 100_000;

/**
 * The state one rules engine's steps share (evaluate-reading.ts, the handlers, the periodic
 * check, rebuild): built once by createRulesEngine, mutated only by those steps, all on one
 * JavaScript task, so no two steps interleave.
 */
export interface EngineState {
  deps: RulesDeps;
  config: RulesConfig;
  log: Logger;
  now: () => number;
  ownership: Ownership;
  alerts: AlertManager;
  deadMan: DeadMan;
  faults: ReturnType<typeof createFaultDetector>;
  /** Per owned sensor id. */
  sensors: Map<string, SensorState>;
  events: RetryingWriter<AlertEvent>;
  shiftRecords: RetryingWriter<ShiftRecord>;
  health: { started: boolean; lastTickAt: number; tickEveryMs: number; lastEvaluationAt: number; evaluated: number; lagMs: number };
  /** Shifts that began before the readings the engine holds (restore start) are not recorded: their exposure would be partial. */
  trackShiftsFrom: number;
  /** When start() ran; a shift that ended before it was alerted on by the run before. */
  startedAt: number;

  stateOf(s: SensorEntry): SensorState;
  /** Raise, keep, hold or calm the alert of (sensor, rule) from one evaluation. */
  apply(s: SensorEntry, rule: string, level: AlertLevel | 'hold' | undefined, reason?: AlertReason): void;
  /** The enterprise's shift at `at`, if it has shifts. */
  shiftOf(s: SensorEntry, at: number): ShiftWindow | undefined;
  noiseRuleOf(s: SensorEntry): NoiseRule;
  excursionRuleOf(s: SensorEntry): ExcursionRule | undefined;
  /** The alert fields that come from the sensor. */
  base(s: SensorEntry): { sensorId: string; enterpriseId: string; gatewayId: string; agent: string; townshipId: string };
  /** A value as it enters the window: noise as its dose rate under the profile's rule. */
  toWindow(s: SensorEntry, v: number): number;
}

const profileOf = (deps: RulesDeps, s: SensorEntry) => deps.catalogue.profiles.get(s.profileId);

export function createEngineState(deps: RulesDeps, config: RulesConfig): EngineState {
  const log = deps.logger.child({ module: 'rules' });
  const now = deps.now ?? Date.now;
  const events = createRetryingWriter<AlertEvent>({ what: 'alert events', write: (b) => deps.store.writeAlertEvents(b), log });
  const shiftRecords = createRetryingWriter<ShiftRecord>({ what: 'shift records', write: (b) => deps.store.writeShiftRecords(b), log, max: SHIFT_RECORDS_MAX });
  const alerts: AlertManager = createAlertManager({
    clearHoldMs: config.clearHoldMs,
    now,
    onEvent(e) {
      if (e.kind === 'raised') deps.metrics.alertsRaised.inc({ level: e.alert.level });
      deps.metrics.alertsOpen.set(alerts.count());
      // Stored once published (RulesDeps.onAlertEvent): the store never holds an event the stream lacks.
      // (A caller typed `=> void` may still return a value: only a promise is waited for.)
      const held: unknown = deps.onAlertEvent?.(e);
      events.push(e, held instanceof Promise ? held : undefined);
    },
  });
  const sensors = new Map<string, SensorState>();
  // Noise goes into the window as its dose rate under the profile's rule (noise-dose.ts): equal
  // energy for GBZ 2.2-2007, OSHA's 5-dB rule with its 80-dB threshold, NIOSH's 3-dB rule.
  const noiseRuleOf = (s: SensorEntry) => profileOf(deps, s)?.noise ?? DEFAULT_NOISE_RULE;
  const base = (s: SensorEntry) => ({ sensorId: s.id, enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, agent: s.agent, townshipId: s.townshipId });
  return {
    deps, config, log, now,
    ownership: createOwnership({ owns: deps.owns, registry: deps.registry, metrics: deps.metrics, log }),
    alerts,
    deadMan: createDeadMan({ timeoutFactor: config.deadManFactor ?? 5, minTimeoutMs: config.deadManMinMs ?? 15_000 }, now()),
    faults: createFaultDetector({ flatlineCount: 30, flatlineMinMs: 10 * 60_000, driftCount: 10, driftWindowMs: 10 * 60_000 }),
    sensors, events, shiftRecords,
    health: { started: false, lastTickAt: 0, tickEveryMs: 0, lastEvaluationAt: 0, evaluated: 0, lagMs: 0 },
    trackShiftsFrom: -Infinity,
    startedAt: -Infinity,
    stateOf(s) {
      let st = sensors.get(s.id);
      if (!st) sensors.set(s.id, (st = { window: new ExposureWindow(Math.max((config.maxHoldIntervals ?? 3) * s.intervalS * 1000, config.minHoldMs ?? 60_000)), recent: [] }));
      return st;
    },
    apply(s, rule, level, reason) {
      if (level === undefined) alerts.calm(s.id, rule);
      else if (level === 'hold') alerts.hold(s.id, rule);
      else if (!alerts.touch(s.id, rule, level, reason!)) alerts.fire({ ...base(s), rule, level, reason: reason! });
    },
    shiftOf(s, at) {
      const e = deps.registry.current.enterprises.get(s.enterpriseId);
      return e && e.shifts.length ? currentShift(e.shifts, e.timezone, at) : undefined;
    },
    noiseRuleOf,
    excursionRuleOf: (s) => profileOf(deps, s)?.excursionRule,
    base,
    toWindow: (s, v) => (s.agentDef.kind === 'noise' ? doseRate(v, noiseRuleOf(s)) : v),
  };
}
