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
  /** One active alert per (sensor, rule), with its hysteresis state beside it. */
  interface Entry {
    alert: Alert;
    /** When the condition first went calm (for the clear hold). */
    calmSince?: number;
    /** When the condition first dropped to a lower level (de-escalation waits for the hold too). */
    lower?: { level: AlertLevel; since: number };
  }
  /** sensor → rule → entry: no key strings built on the per-reading path. */
  const bySensor = new Map<string, Map<string, Entry>>();
  /** alert id → entry, for the actions people take. */
  const byId = new Map<string, Entry>();

  const entry = (sensorId: string, rule: string) => bySensor.get(sensorId)?.get(rule);
  const add = (a: Alert) => {
    let rules = bySensor.get(a.sensorId);
    if (!rules) bySensor.set(a.sensorId, (rules = new Map()));
    const old = rules.get(a.rule);
    if (old) byId.delete(old.alert.id);
    const e: Entry = { alert: a };
    rules.set(a.rule, e);
    byId.set(a.id, e);
  };
  const remove = (a: Alert) => {
    const rules = bySensor.get(a.sensorId);
    if (rules?.get(a.rule)?.alert !== a) return;
    rules.delete(a.rule);
    if (rules.size === 0) bySensor.delete(a.sensorId);
    byId.delete(a.id);
  };

  const emit = (alert: Alert, kind: AlertEventKind, extra: { by?: string; note?: string } = {}) => {
    const e: AlertEvent = { alertId: alert.id, kind, ts: alert.updatedAt, alert: { ...alert }, ...extra };
    opts.onEvent(e);
    return e;
  };

  const clear = (cur: Alert, at: number) => {
    remove(cur);
    cur.state = 'cleared';
    cur.updatedAt = at;
    return emit(cur, 'cleared');
  };

  return {
    active: () => [...byId.values()].map((e) => e.alert),
    count: () => byId.size,
    get: (id: string) => byId.get(id)?.alert,

    /**
     * The condition still holds at the level of the active alert: keep the worst value,
     * restart any pending clear or de-escalation. Returns false when there is no active
     * alert at that level (then call fire). The per-reading fast path: no trigger object.
     */
    touch(sensorId: string, rule: string, level: AlertLevel, reason: AlertReason): boolean {
      const e = entry(sensorId, rule);
      if (!e || e.alert.level !== level) return false;
      e.calmSince = undefined;
      e.lower = undefined;
      if (reason.value > e.alert.reason.value) e.alert.reason = reason; // silently, as fire() does
      return true;
    },

    /** The condition holds at `level`. Raises, escalates or de-escalates; notifies only on change. */
    fire(t: Trigger, at = opts.now()): AlertEvent | undefined {
      const e = entry(t.sensorId, t.rule);
      if (!e) {
        const alert: Alert = { id: `${t.sensorId}:${t.rule}:${at}`, ...t, state: 'open', openedAt: at, updatedAt: at };
        add(alert);
        return emit(alert, 'raised');
      }
      e.calmSince = undefined;
      const cur = e.alert;
      if (cur.level === t.level) {
        e.lower = undefined;
        if (t.reason.value > cur.reason.value) cur.reason = t.reason; // keep the worst value seen, silently
        return undefined;
      }
      const up = rank(t.level) > rank(cur.level);
      if (!up) {
        // Lower for less than the hold time: keep the level (no flapping between levels).
        const low = e.lower;
        if (!low || rank(t.level) > rank(low.level)) e.lower = { level: t.level, since: low?.since ?? at };
        if (at - (low?.since ?? at) < opts.clearHoldMs) return undefined;
      }
      e.lower = undefined;
      const kind = up ? 'escalated' : 'deescalated';
      if (up && cur.state === 'acknowledged') {
        // Acknowledged, then worse: the acknowledgement covered the lower level only. The
        // alert is open again and needs a new acknowledgement (DESIGN.md: an escalation
        // reopens an acknowledged alert); the old one stays in the history of events.
        cur.state = 'open';
        delete cur.ackBy;
        delete cur.ackNote;
      }
      cur.level = t.level;
      cur.reason = t.reason;
      cur.updatedAt = at;
      return emit(cur, kind);
    },

    /** The condition is between its clear threshold and its trigger: nothing changes, and a pending clear restarts. */
    hold(sensorId: string, rule: string) {
      const e = entry(sensorId, rule);
      if (e) e.calmSince = undefined;
    },

    isActive: (sensorId: string, rule: string) => entry(sensorId, rule) !== undefined,

    /** Clear at once, without the hold (the condition's end is certain, e.g. a sensor reporting again). */
    clearNow(sensorId: string, rule: string, at = opts.now()): AlertEvent | undefined {
      const e = entry(sensorId, rule);
      return e ? clear(e.alert, at) : undefined;
    },

    /** The condition is below its clear threshold; clears once it has stayed so for clearHoldMs. */
    calm(sensorId: string, rule: string, at = opts.now()): AlertEvent | undefined {
      const e = entry(sensorId, rule);
      if (!e) return undefined;
      if (e.calmSince === undefined) {
        e.calmSince = at;
        return undefined;
      }
      return at - e.calmSince < opts.clearHoldMs ? undefined : clear(e.alert, at);
    },

    acknowledge(alertId: string, by: string, note: string, at = opts.now()): AlertEvent | undefined {
      const cur = byId.get(alertId)?.alert;
      if (!cur || cur.state !== 'open') return undefined;
      cur.state = 'acknowledged';
      cur.ackBy = by;
      cur.ackNote = note;
      cur.updatedAt = at;
      return emit(cur, 'acknowledged', { by, note });
    },

    /** A regulator closes the alert by hand, with the reason (real exceedance, false alarm, sensor fault). */
    resolve(alertId: string, by: string, reason: ResolveReason, note: string, at = opts.now()): AlertEvent | undefined {
      const cur = byId.get(alertId)?.alert;
      if (!cur) return undefined;
      remove(cur);
      cur.state = 'cleared';
      cur.resolution = { by, reason, note, at };
      cur.updatedAt = at;
      return emit(cur, 'resolved', { by, note });
    },

    /** A note on an open alert (rectification steps, findings); the alert itself is unchanged. */
    comment(alertId: string, by: string, note: string, at = opts.now()): AlertEvent | undefined {
      const cur = byId.get(alertId)?.alert;
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
        add({ ...e.alert });
      }
    },
  };
}

export type AlertManager = ReturnType<typeof createAlertManager>;
