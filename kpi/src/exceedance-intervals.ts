import type { Alert, AlertEvent } from '../../core/src/types.ts';

/**
 * Rules whose orange or red level is an exceedance of a limit (above the OEL, the MAC,
 * 5 × PC-TWA, the noise or radon limit, or a shift's C_TWA). Forecasts, action-level
 * warnings, sensor faults and the dead-man are not exceedances.
 */
export const EXCEEDANCE_RULES: ReadonlySet<string> = new Set(['twa', 'stel', 'mac', 'peak', 'excursion', 'lex8h', 'radon-mean', 'shift-twa']);

/** An alert snapshot that says "this point is above a limit now". */
export function isExceeding(a: Alert): boolean {
  return EXCEEDANCE_RULES.has(a.rule) && (a.level === 'orange' || a.level === 'red') && a.state !== 'cleared';
}

export interface Interval {
  startMs: number;
  /** Infinity while the exceedance is still active. */
  endMs: number;
}

/**
 * Each sensor's exceedance intervals, rebuilt from alert events. Every event carries the
 * alert as it is after the event, so an alert exceeds from the event that makes it
 * orange/red (raised, escalated) until the event that ends that (de-escalated to yellow,
 * cleared, resolved); one that is still orange or red exceeds until now and beyond.
 *
 * `events` should hold each alert's whole history. Where one starts mid-way (its `raised`
 * event is older than what was read), an alert seen orange/red at its first event without
 * having just escalated is taken to have exceeded since it opened (`openedAt`).
 */
export function exceedanceIntervals(events: readonly AlertEvent[]): Map<string, Interval[]> {
  const byAlert = new Map<string, AlertEvent[]>();
  for (const e of events) {
    const list = byAlert.get(e.alertId);
    if (list) list.push(e);
    else byAlert.set(e.alertId, [e]);
  }
  const out = new Map<string, Interval[]>();
  for (const list of byAlert.values()) {
    list.sort((x, y) => x.ts - y.ts);
    const first = list[0]!;
    const sensorId = first.alert.sensorId;
    const intervals: Interval[] = [];
    let start: number | undefined;
    if (first.kind !== 'raised' && first.kind !== 'escalated' && EXCEEDANCE_RULES.has(first.alert.rule) && (first.alert.level === 'orange' || first.alert.level === 'red')) {
      start = Math.min(first.alert.openedAt, first.ts);
    }
    for (const e of list) {
      const now = isExceeding(e.alert);
      if (now && start === undefined) start = e.ts;
      else if (!now && start !== undefined) {
        intervals.push({ startMs: start, endMs: e.ts });
        start = undefined;
      }
    }
    if (start !== undefined) intervals.push({ startMs: start, endMs: Infinity });
    if (intervals.length) out.set(sensorId, [...(out.get(sensorId) ?? []), ...intervals]);
  }
  return out;
}

/** Did any interval touch [from, to]? An exceedance that ended exactly at `from` did not. */
export function exceededIn(intervals: readonly Interval[] | undefined, from: number, to: number): boolean {
  return (intervals ?? []).some((i) => i.startMs <= to && i.endMs > from);
}
