/** The shared vocabulary. Services import these; none redefines them. */

export type JurisdictionLevel = 'city' | 'district' | 'township';

export interface Jurisdiction {
  id: string;
  name: string;
  nameEn?: string;
  level: JurisdictionLevel;
  parent?: string;
  kpiTargetPct?: number;
}

/** A reading after validation and normalisation. */
export interface Reading {
  enterpriseId: string;
  gatewayId: string;
  sensorId: string;
  agent: string;
  /** Sample time, ms since epoch (the sensor's clock, not arrival time). */
  ts: number;
  /** Value as received, in `unit`. */
  value: number;
  unit: string;
  /** Value converted to the agent's limit unit (mg/m3, dB(A) or Bq/m3). */
  valueStd: number;
  /** Set when a small negative zero drift was clamped to the instrument's minimum. */
  clamped?: true;
}

export type AlertLevel = 'blue' | 'yellow' | 'orange' | 'red';
export const ALERT_LEVELS: readonly AlertLevel[] = ['blue', 'yellow', 'orange', 'red'];

export type AlertState = 'open' | 'acknowledged' | 'cleared';

/** Why a rule fired: enough for an auditor to re-check it by hand. */
export interface AlertReason {
  metric: string;
  value: number;
  limit: number;
  unit: string;
  /** Standard and clause the limit comes from. */
  source: string;
  /** Early warnings: when the limit is expected to be passed (ms since epoch). */
  expectedAt?: number;
  /** Share of the averaging window that was measured (0–1), for time-weighted metrics. */
  coverage?: number;
}

export interface Alert {
  id: string;
  sensorId: string;
  rule: string;
  enterpriseId: string;
  gatewayId: string;
  agent: string;
  townshipId: string;
  level: AlertLevel;
  state: AlertState;
  reason: AlertReason;
  openedAt: number;
  updatedAt: number;
  ackBy?: string;
  ackNote?: string;
  /** Set when a regulator resolved the alert (rather than the condition clearing). */
  resolution?: { by: string; reason: ResolveReason; note: string; at: number };
}

/** Why an alert was resolved by hand. */
export type ResolveReason = 'exceedance' | 'false-alarm' | 'sensor-fault';
export const RESOLVE_REASONS: readonly ResolveReason[] = ['exceedance', 'false-alarm', 'sensor-fault'];

export type AlertEventKind = 'raised' | 'escalated' | 'deescalated' | 'acknowledged' | 'cleared' | 'resolved' | 'commented';

/**
 * What a person does to an alert (API → rules engine, in process or over the internal
 * MQTT topic). Each one becomes an alert event with `by` and `note`: the audit log.
 */
export type AlertCommand =
  | { op: 'ack'; alertId: string; by: string; note: string }
  | { op: 'resolve'; alertId: string; by: string; reason: ResolveReason; note: string }
  | { op: 'comment'; alertId: string; by: string; note: string };

/** The event kind each command produces. */
export const COMMAND_EVENT: Record<AlertCommand['op'], AlertEventKind> = { ack: 'acknowledged', resolve: 'resolved', comment: 'commented' };

/** Append-only history of every change to an alert. */
export interface AlertEvent {
  alertId: string;
  kind: AlertEventKind;
  ts: number;
  alert: Alert;
  by?: string;
  note?: string;
}

export interface ComponentHealth {
  ok: boolean;
  detail?: string;
}

/** GBZ/T 229 risk grade of a monitoring point, 0 相对无害 … 4 (Ⅳ); rules/src/grading.ts computes it. */
export type Grade = 0 | 1 | 2 | 3 | 4;

export interface GradeResult {
  grade: Grade;
  label: string;
  G?: number;
  factors: Record<string, number>;
  source: string;
}
