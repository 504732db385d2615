import { ALERT_LEVELS, type Alert, type AlertEvent, type AlertEventKind, type AlertLevel, type AlertReason, type ResolveReason } from '../../core/src/types.ts';

export interface Trigger {
  sensorId: string;
  rule: string;
  enterpriseId: string;
  gatewayId: string;
  agent: string;
  townshipId: string;
  level: AlertLevel;
  reason: AlertReason;
}

export interface AlertManagerOptions {
  /** A condition must stay below the clear threshold this long before the alert clears, ms. */
  clearHoldMs: number;
  now: () => number;
  onEvent: (e: AlertEvent) => void;
}

const rank = (l: AlertLevel) => ALERT_LEVELS.indexOf(l);

/**
 * Alert lifecycle: exactly one active alert per (sensor, rule). The engine is a single
 * JavaScript task per shard, so `fire` and `calm` for one key never interleave; a
 * concurrent burst of readings for one key therefore opens one alert, not several.
 * Every change is emitted as an append-only event.
 */
export function createAlertManager(opts: AlertManagerOptions) {
  const active = new Map<string, Alert>();
  /** When the condition first went calm, per key (for the clear hold). */
  const calmSince = new Map<string, number>();
  /** When the condition first dropped to a lower level, per key (de-escalation waits for the hold too). */
  const lowerSince = new Map<string, { level: AlertLevel; since: number }>();
  const key = (sensorId: string, rule: string) => `${sensorId}\0${rule}`;
  /** Active alerts per sensor: calm() and hold() for a sensor without any (nearly every reading) return at once. */
  const perSensor = new Map<string, number>();
  const setActive = (k: string, a: Alert) => {
    if (!active.has(k)) perSensor.set(a.sensorId, (perSensor.get(a.sensorId) ?? 0) + 1);
    active.set(k, a);
  };
  const deleteActive = (k: string, a: Alert) => {
    if (!active.delete(k)) return;
    const n = (perSensor.get(a.sensorId) ?? 1) - 1;
    if (n > 0) perSensor.set(a.sensorId, n);
    else perSensor.delete(a.sensorId);
  };

  const emit = (alert: Alert, kind: AlertEventKind, extra: { by?: string; note?: string } = {}) => {
    const e: AlertEvent = { alertId: alert.id, kind, ts: alert.updatedAt, alert: { ...alert }, ...extra };
    opts.onEvent(e);
    return e;
  };

  return {
    active: () => [...active.values()],
    count: () => active.size,
    get: (id: string) => [...active.values()].find((a) => a.id === id),

    /** The condition holds at `level`. Raises, escalates or de-escalates; notifies only on change. */
    fire(t: Trigger, at = opts.now()): AlertEvent | undefined {
      const k = key(t.sensorId, t.rule);
      calmSince.delete(k);
      const cur = active.get(k);
      if (!cur) {
        const alert: Alert = { id: `${t.sensorId}:${t.rule}:${at}`, ...t, state: 'open', openedAt: at, updatedAt: at };
        setActive(k, alert);
        return emit(alert, 'raised');
      }
      if (cur.level === t.level) {
        lowerSince.delete(k);
        if (t.reason.value > cur.reason.value) cur.reason = t.reason; // keep the worst value seen, silently
        return undefined;
      }
      const up = rank(t.level) > rank(cur.level);
      if (!up) {
        // Lower for less than the hold time: keep the level (no flapping between levels).
        const low = lowerSince.get(k);
        if (!low || rank(t.level) > rank(low.level)) lowerSince.set(k, { level: t.level, since: low?.since ?? at });
        if (at - (low?.since ?? at) < opts.clearHoldMs) return undefined;
      }
      lowerSince.delete(k);
      const kind = up ? 'escalated' : 'deescalated';
      cur.level = t.level;
      cur.reason = t.reason;
      cur.updatedAt = at;
      return emit(cur, kind);
    },

    /** The condition is between its clear threshold and its trigger: nothing changes, and a pending clear restarts. */
    hold(sensorId: string, rule: string) {
      if (!perSensor.has(sensorId)) return;
      calmSince.delete(key(sensorId, rule));
    },


    isActive: (sensorId: string, rule: string) => active.has(key(sensorId, rule)),

    /** Clear at once, without the hold (the condition's end is certain, e.g. a sensor reporting again). */
    clearNow(sensorId: string, rule: string, at = opts.now()): AlertEvent | undefined {
      const k = key(sensorId, rule);
      const cur = active.get(k);
      if (!cur) return undefined;
      deleteActive(k, cur);
      calmSince.delete(k);
      cur.state = 'cleared';
      cur.updatedAt = at;
      return emit(cur, 'cleared');
    },

    /** The condition is below its clear threshold; clears once it has stayed so for clearHoldMs. */
    calm(sensorId: string, rule: string, at = opts.now()): AlertEvent | undefined {
      if (!perSensor.has(sensorId)) return undefined;
      const k = key(sensorId, rule);
      const cur = active.get(k);
      if (!cur) return undefined;
      const since = calmSince.get(k);
      if (since === undefined) {
        calmSince.set(k, at);
        return undefined;
      }
      if (at - since < opts.clearHoldMs) return undefined;
      deleteActive(k, cur);
      calmSince.delete(k);
      lowerSince.delete(k);
      cur.state = 'cleared';
      cur.updatedAt = at;
      return emit(cur, 'cleared');
    },

    acknowledge(alertId: string, by: string, note: string, at = opts.now()): AlertEvent | undefined {
      const cur = [...active.values()].find((a) => a.id === alertId);
      if (!cur || cur.state !== 'open') return undefined;
      cur.state = 'acknowledged';
      cur.ackBy = by;
      cur.ackNote = note;
      cur.updatedAt = at;
      return emit(cur, 'acknowledged', { by, note });
    },

    /** A regulator closes the alert by hand, with the reason (real exceedance, false alarm, sensor fault). */
    resolve(alertId: string, by: string, reason: ResolveReason, note: string, at = opts.now()): AlertEvent | undefined {
      const entry = [...active.entries()].find(([, a]) => a.id === alertId);
      if (!entry) return undefined;
      const [k, cur] = entry;
      deleteActive(k, cur);
      calmSince.delete(k);
      lowerSince.delete(k);
      cur.state = 'cleared';
      cur.resolution = { by, reason, note, at };
      cur.updatedAt = at;
      return emit(cur, 'resolved', { by, note });
    },

    /** A note on an open alert (rectification steps, findings); the alert itself is unchanged. */
    comment(alertId: string, by: string, note: string, at = opts.now()): AlertEvent | undefined {
      const cur = [...active.values()].find((a) => a.id === alertId);
      if (!cur) return undefined;
      cur.updatedAt = at;
      return emit(cur, 'commented', { by, note });
    },

    /** Rebuild from stored events (restart): the last event of each alert decides. */
    restore(events: readonly AlertEvent[]) {
      const last = new Map<string, AlertEvent>();
      for (const e of events) last.set(e.alertId, e);
      for (const e of last.values()) {
        if (e.alert.state === 'cleared') continue;
        setActive(key(e.alert.sensorId, e.alert.rule), { ...e.alert });
      }
    },
  };
}

export type AlertManager = ReturnType<typeof createAlertManager>;
