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
}

export type AlertEventKind = 'raised' | 'escalated' | 'deescalated' | 'acknowledged' | 'cleared';

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
