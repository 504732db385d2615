import type { Catalogue } from '../../core/src/agents.ts';
import type { Rejection } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Alert, AlertCommand, AlertEvent, ResolveReason, Reading } from '../../core/src/types.ts';
import type { Grade, GradeResult } from './grading.ts';
import type { WindowMetrics } from './window.ts';

/** The rules engine's public shapes; engine.ts re-exports them (the handler files import them from here, so no file imports engine.ts back). */

export interface RulesConfig {
  /** Hysteresis hold before an alert clears, ms. */
  clearHoldMs: number;
  /** Dead-man timeout = factor × the sensor's reporting interval. */
  deadManFactor?: number;
  deadManMinMs?: number;
  /** A reading holds at most this many reporting intervals, and at least `minHoldMs` (gaps beyond are not filled). */
  maxHoldIntervals?: number;
  minHoldMs?: number;
  /** How far back state is rebuilt from the store at start, ms. */
  restoreMs?: number;
}

export interface RulesDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /**
   * Every alert event (the API pushes these). A returned promise says when the event is
   * held by the transport (the alert event stream, distributed); the event is written to
   * the store only after it settles, so the store is never ahead of the stream.
   */
  onAlertEvent?: (e: AlertEvent) => void | Promise<void>;
  /**
   * The alert events the transport keeps (the distributed alert event stream), in stream
   * order, from `sinceMs` on; absent where it keeps none (one process). At start the
   * engine restores what the stream has and the store lacks (rebuild.ts): a worker killed
   * after publishing an event and before storing it left that event only there.
   */
  streamedAlertEvents?: (sinceMs: number) => Promise<AlertEvent[]>;
  now?: () => number;
  /**
   * The enterprises this worker owns (split deployment: its stream partitions, FNV-1a of the
   * enterprise id mod P). It keeps state for, rebuilds, evaluates, dead-mans and grades only
   * their sensors and gateways; anything of another enterprise reached the wrong worker and is
   * ignored and counted (hw_rules_foreign_total). Must be pure: the same answer for an id every
   * time, registry reloads included. Absent: every enterprise (one process).
   */
  owns?: (enterpriseId: string) => boolean;
  /**
   * At start, rebuild a sensor's window from stored readings up to this time only (its
   * evaluated watermark, core/src/streams/watermarks.ts): later ones are still in the stream
   * and will be delivered and evaluated. Undefined for a sensor: every stored reading.
   */
  rebuildUntil?: (sensorId: string) => number | undefined;
}

/** What the engine knows of one sensor now. */
export interface SensorExposure extends WindowMetrics {
  sensorId: string;
  /**
   * Noise: the profile's 8-h level in dB(A) from its dose (GBZ LEX,8h equal energy; OSHA /
   * NIOSH TWA from the dose, noise-dose.ts); undefined otherwise. For noise `twa8h` is the dose
   * fraction D/100 of the last 8 h and `stel15`, `max15`, `last` are dose rates, not levels.
   */
  lex8h?: number;
  /** Noise: dose % of the last 8 h under the profile's rule (OSHA 1910.95 App. A D). */
  dosePct?: number;
  shift?: { name: string; startMs: number; endMs: number; twa: number };
}

export interface RulesEngine {
  start(): Promise<void>;
  handleReadings(readings: readonly Reading[]): void;
  /** A gateway went online or offline (from the broker): a gateway-offline alert, distinct from a sensor's dead-man. */
  handlePresence(p: { enterpriseId: string; gatewayId: string; online: boolean; ts: number }): void;
  /** Readings ingest refused (out-of-range ones count towards a sensor fault). */
  handleRejections(rejections: readonly Rejection[], ts: number): void;
  acknowledge(alertId: string, by: string, note: string): AlertEvent | undefined;
  resolve(alertId: string, by: string, reason: ResolveReason, note: string): AlertEvent | undefined;
  comment(alertId: string, by: string, note: string): AlertEvent | undefined;
  /** Run a person's command; undefined when the alert is not active (or not this worker's). */
  command(cmd: AlertCommand): AlertEvent | undefined;
  activeAlerts(): Alert[];
  exposure(sensorId: string): SensorExposure | undefined;
  /** The highest 15-min C_STE and the highest reading of the last 8 h (what grading reads besides C_TWA). */
  extremes8h(sensorId: string): { stel15max: number; peak: number } | undefined;
  /** GBZ/T 229 grade of a monitoring point from its current 8-h exposure. */
  grade(sensorId: string): GradeResult | undefined;
  /** The enterprise grade: its worst graded monitoring point. */
  enterpriseGrade(enterpriseId: string): Grade | undefined;
  /** Run the dead-man check now (the engine also runs it on a timer). */
  tick(): void;
  /** Resolves once every event so far is stored. */
  flush(): Promise<void>;
  /** Real signals for /api/health (core/src/health.ts rulesHealth). */
  status(): RulesStatus;
  stop(): Promise<void>;
}

export interface RulesStatus {
  started: boolean;
  /** When the periodic check (dead-man, exposure snapshot) last completed, ms. */
  lastTickAt: number;
  tickEveryMs: number;
  /** When readings were last evaluated, ms (0: none yet), and how many so far. */
  lastEvaluationAt: number;
  evaluated: number;
  /** How old the newest reading of the last evaluated batch was when evaluated, ms (gateway clocks included). */
  lagMs: number;
  /** Alert events the store has not taken yet. */
  unsavedEvents: number;
  activeAlerts: number;
}
