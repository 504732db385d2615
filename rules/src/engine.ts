import type { Catalogue } from '../../core/src/agents.ts';
import type { Rejection } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder, SensorEntry } from '../../core/src/registry.ts';
import type { ExposurePoint, Store } from '../../core/src/store/store.ts';
import { loadActiveAlerts } from '../../core/src/store/active-alerts.ts';
import type { Alert, AlertCommand, AlertEvent, AlertLevel, AlertReason, Reading, ResolveReason } from '../../core/src/types.ts';
import { createAlertManager } from './alert-manager.ts';
import { createDeadMan } from './dead-man.ts';
import { forecast, FORECAST_LIMIT_RULE, FORECAST_RULES } from './early-warning.ts';
import { evaluate } from './evaluate.ts';
import { limitsInForce } from '../../core/src/limits-in-force.ts';
import { excursionBound, excursionSource, type ExcursionBound } from '../../core/src/excursion-rule.ts';
import { createFaultDetector, type FaultKind } from './sensor-faults.ts';
import { currentShift, type ShiftWindow } from '../../core/src/shifts.ts';
import type { ShiftRecord } from '../../core/src/store/store.ts';
import { assessShift } from './shift-record.ts';
import { EXCURSION_FACTOR, EXCURSION_GAP_MS, EXCURSION_MAX_MS, EXCURSIONS_MAX, PeakExcursionTracker, type ExcursionViolation } from './peak-excursions.ts';
import { tzOffsetMs } from '../../core/src/shifts.ts';
import { DEFAULT_GRADING_EDITION, worstGrade, type Grade, type GradeResult } from './grading.ts';
import { gradePoint } from './grade-point.ts';
import { ExposureWindow, type WindowMetrics } from './window.ts';
import { assessDose, DEFAULT_NOISE_RULE, doseRate } from './noise-dose.ts';

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
  /** TEMP until feat/rules-owns lands: ownership predicate (ignored here). */
  owns?: (enterpriseId: string) => boolean;
  logger: Logger;
  metrics: Metrics;
  /** Every alert event (the API pushes these). */
  onAlertEvent?: (e: AlertEvent) => void;
  now?: () => number;
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
  /** Run a person's command; undefined when the alert is not active. */
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

interface SensorState {
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

const TREND_WINDOW_MS = 10 * 60_000;
const FAULT_LEVEL: AlertLevel = 'yellow';

export function createRulesEngine(deps: RulesDeps, config: RulesConfig): RulesEngine {
  const log = deps.logger.child({ module: 'rules' });
  const now = deps.now ?? Date.now;
  const deadMan = createDeadMan({ timeoutFactor: config.deadManFactor ?? 5, minTimeoutMs: config.deadManMinMs ?? 15_000 }, now());
  const faults = createFaultDetector({ flatlineCount: 30, flatlineMinMs: 10 * 60_000, driftCount: 10, driftWindowMs: 10 * 60_000 });
  const states = new Map<string, SensorState>();
  let unsaved: AlertEvent[] = [];
  let saving: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  const health = { started: false, lastTickAt: 0, tickEveryMs: 0, lastEvaluationAt: 0, evaluated: 0, lagMs: 0 };

  let unsavedShifts: ShiftRecord[] = [];
  let savingShifts: Promise<void> = Promise.resolve();
  const saveShifts = () => {
    savingShifts = savingShifts.then(async () => {
      if (unsavedShifts.length === 0) return;
      const batch = unsavedShifts;
      unsavedShifts = [];
      try {
        await deps.store.writeShiftRecords(batch);
      } catch (err) {
        unsavedShifts = batch.concat(unsavedShifts);
        if (unsavedShifts.length > SHIFT_RECORDS_MAX) {
          const dropped = unsavedShifts.length - SHIFT_RECORDS_MAX;
          unsavedShifts = unsavedShifts.slice(dropped);
          log.error({ dropped }, 'shift records dropped: the store has refused them too long');
        }
        log.warn({ err: (err as Error).message, records: batch.length }, 'shift records not stored yet; will retry');
        setTimeout(saveShifts, 1000).unref();
      }
    });
    return savingShifts;
  };
  /** Shifts that began before the readings the engine holds (restore start) are not recorded: their exposure would be partial. */
  let trackShiftsFrom = -Infinity;
  let startedAt = -Infinity;

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
      deps.metrics.alertsOpen.set(alerts.count());
      deps.onAlertEvent?.(e);
    },
  });

  const stateOf = (s: SensorEntry): SensorState => {
    let st = states.get(s.id);
    if (!st) states.set(s.id, (st = { window: new ExposureWindow(Math.max((config.maxHoldIntervals ?? 3) * s.intervalS * 1000, config.minHoldMs ?? 60_000)), recent: [] }));
    return st;
  };
  // Noise goes into the window as its dose rate under the profile's rule (noise-dose.ts): equal
  // energy for GBZ 2.2-2007, OSHA's 5-dB rule with its 80-dB threshold, NIOSH's 3-dB rule.
  const noiseRuleOf = (s: SensorEntry) => deps.catalogue.profiles.get(s.profileId)?.noise ?? DEFAULT_NOISE_RULE;
  const excursionRuleOf = (s: SensorEntry) => deps.catalogue.profiles.get(s.profileId)?.excursionRule;
  const toWindow = (s: SensorEntry, v: number) => (s.agentDef.kind === 'noise' ? doseRate(v, noiseRuleOf(s)) : v);

  const base = (s: SensorEntry) => ({ sensorId: s.id, enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, agent: s.agent, townshipId: s.townshipId });
  const apply = (s: SensorEntry, rule: string, level: AlertLevel | 'hold' | undefined, reason?: AlertReason) => {
    if (level === undefined) alerts.calm(s.id, rule);
    else if (level === 'hold') alerts.hold(s.id, rule);
    else if (!alerts.touch(s.id, rule, level, reason!)) alerts.fire({ ...base(s), rule, level, reason: reason! });
  };

  const shiftOf = (s: SensorEntry, at: number) => {
    const e = deps.registry.current.enterprises.get(s.enterpriseId);
    return e && e.shifts.length ? currentShift(e.shifts, e.timezone, at) : undefined;
  };

  /**
   * A shift ended: store its C_TWA (noise: dose and 8-h level) as an exposure record, and
   * raise `shift-twa` (orange) when it exceeds the limit; a compliant shift clears it. Called
   * before the first reading past the end enters the window (which would overwrite the
   * ring's oldest minute), or by the tick once the end has passed by the hold time.
   */
  function closeShift(s: SensorEntry, st: SensorState, live: boolean) {
    const shift = st.shift!;
    st.shift = undefined;
    const { record, reason } = assessShift({ sensor: s, window: st.window, shift, limits: limitsInForce(deps.catalogue, s.profileId, s.agentDef), noiseRule: noiseRuleOf(s) });
    unsavedShifts.push(record);
    void saveShifts();
    // A shift that ended before this engine started was alerted on by the run before (its record is rewritten, identically).
    if (!live || !reason || shift.endMs <= startedAt) return;
    if (record.exceeded) apply(s, 'shift-twa', 'orange', reason);
    else if (alerts.isActive(s.id, 'shift-twa')) alerts.clearNow(s.id, 'shift-twa', now());
  }

  function ingestOne(s: SensorEntry, r: Pick<Reading, 'ts' | 'valueStd' | 'clamped'>, evaluateNow: boolean) {
    deadMan.seen(s.id, r.ts);
    const st = stateOf(s);
    if (st.shift && r.ts >= st.shift.endMs && r.ts > st.window.lastTs) closeShift(s, st, evaluateNow);
    if (!st.window.add(r.ts, toWindow(s, r.valueStd))) return; // out of order: counted, not windowed
    if (!st.shift) {
      const sh = shiftOf(s, r.ts);
      if (sh && sh.startMs >= trackShiftsFrom) st.shift = sh;
    }
    const limits = limitsInForce(deps.catalogue, s.profileId, s.agentDef);
    // Only under a profile whose standard has an excursion rule (GBZ 2.1-2019; not OSHA, NIOSH).
    const pcTwaOnly = excursionBound(excursionRuleOf(s), s.agentDef.kind, limits);
    let excursion: ExcursionViolation | undefined;
    if (pcTwaOnly) {
      st.excursions ??= new PeakExcursionTracker(st.window.maxHoldMs);
      excursion = st.excursions.reading(r.ts, r.valueStd, pcTwaOnly.pcTwa.value, periodStart(s, r.ts));
    }
    // The trend feeds the gas and dust forecasts below; noise and radon have none.
    if (s.agentDef.kind === 'gas' || s.agentDef.kind === 'dust') {
      st.recent.push([r.ts, r.valueStd]);
      let drop = 0;
      while (drop < st.recent.length && st.recent[drop]![0] < r.ts - TREND_WINDOW_MS) drop++;
      drop = Math.max(drop, st.recent.length - 120);
      if (drop > 0) st.recent.splice(0, drop);
    }
    if (!evaluateNow) return;

    const m = st.window.metrics(r.ts);
    for (const v of evaluate(s.agentDef, limits, m, r.valueStd, noiseRuleOf(s), excursionRuleOf(s))) {
      if (v.reason && (v.rule === 'twa' || v.rule === 'lex8h' || v.rule === 'radon-mean')) v.reason.coverage = Math.round(m.coverage8h * 1000) / 1000;
      apply(s, v.rule, v.level, v.reason);
    }
    if (pcTwaOnly) {
      if (excursion) apply(s, 'excursion', 'orange', excursionReason(excursion, pcTwaOnly, s.agentDef.unit));
      else apply(s, 'excursion', undefined);
    } else {
      // No excursion rule here: an `excursion` or `peak` alert restored from the store (raised
      // under the enterprise's former profile, or before these rules were gated by profile)
      // has nothing left to clear it, so it ends now.
      for (const rule of ['excursion', 'peak']) if (alerts.isActive(s.id, rule)) alerts.clearNow(s.id, rule);
    }
    if (limits && (s.agentDef.kind === 'gas' || s.agentDef.kind === 'dust')) {
      const shift = shiftOf(s, r.ts);
      const recentLevel = m.coverage15 > 0 ? m.stel15 / m.coverage15 : r.valueStd;
      const fc = forecast({
        limits, unit: s.agentDef.unit, now: r.ts, recent: st.recent, recentLevel, dose15: m.stel15 * 15 * 60_000,
        shift: shift ? { dose: st.window.dose(shift.startMs, r.ts).dose, endMs: shift.endMs } : undefined,
      });
      for (const rule of FORECAST_RULES) {
        const f = fc.find((x) => x.rule === rule);
        // Not beside an active alert of the same limit; one already up is cleared at once (its alert came).
        if (alerts.isActive(s.id, FORECAST_LIMIT_RULE[rule])) {
          if (alerts.isActive(s.id, rule)) alerts.clearNow(s.id, rule);
        } else apply(s, rule, f ? 'blue' : undefined, f?.reason);
      }
    }
    const { active, ended } = faults.reading(s.id, r.ts, r.valueStd, r.clamped === true);
    for (const f of active) apply(s, `fault-${f}`, FAULT_LEVEL, faultReason(f, s, r.valueStd));
    for (const f of ended) if (alerts.isActive(s.id, `fault-${f}`)) apply(s, `fault-${f}`, undefined);
  }

  /** The counting period of peak excursions: the shift the reading falls in, else its local day. */
  const periodStart = (s: SensorEntry, ts: number) => {
    const shift = shiftOf(s, ts);
    if (shift) return shift.startMs;
    const tz = deps.registry.current.enterprises.get(s.enterpriseId)?.timezone ?? 'Asia/Shanghai';
    const offset = tzOffsetMs(tz, ts);
    return Math.floor((ts + offset) / 86_400_000) * 86_400_000 - offset;
  };

  const excursionReason = (v: ExcursionViolation, bound: ExcursionBound, unit: string): AlertReason => {
    const pcTwa = bound.pcTwa.value;
    const source = excursionSource(bound);
    const above = `above ${EXCURSION_FACTOR} × PC-TWA (${EXCURSION_FACTOR * pcTwa} ${unit})`;
    switch (v.kind) {
      case 'duration': return { metric: `an excursion ${above} lasting, min`, value: Math.round(v.valueMin * 10) / 10, limit: EXCURSION_MAX_MS / 60_000, unit: 'min', source };
      case 'count': return { metric: `excursions ${above} in the shift`, value: v.count, limit: EXCURSIONS_MAX, unit: 'excursions', source };
      case 'gap': return { metric: `time between excursions ${above} (at least 1 h)`, value: Math.round(v.gapMin * 10) / 10, limit: EXCURSION_GAP_MS / 60_000, unit: 'min', source };
    }
  };

  const faultReason = (f: FaultKind, s: SensorEntry, value: number): AlertReason => ({
    metric: `sensor fault: ${f}`, value, limit: f === 'flatline' ? 30 : 10, unit: s.agentDef.unit,
    source: f === 'flatline' ? '30 identical readings over ≥ 10 min' : `${f} readings, 10 within 10 min`,
  });

  let lastSnapshotMinute = Math.floor(now() / 60_000);
  /** Each minute: every active sensor's metrics to the store (measurement `exposure`), for history and audit. */
  function snapshot(t: number) {
    const minute = Math.floor(t / 60_000);
    if (minute === lastSnapshotMinute) return;
    lastSnapshotMinute = minute;
    const at = minute * 60_000;
    const points: ExposurePoint[] = [];
    for (const [id, st] of states) {
      if (st.window.lastTs < at - 8 * 3600_000) continue;
      const x = this_.exposure(id);
      const s = deps.registry.current.sensors.get(id);
      if (!x || !s) continue;
      const p: ExposurePoint = { sensorId: id, enterpriseId: s.enterpriseId, agent: s.agent, ts: at, twa8h: x.twa8h, stel15: x.stel15, coverage8h: x.coverage8h };
      if (x.lex8h !== undefined) p.lex8h = x.lex8h;
      if (x.shift) p.shiftTwa = x.shift.twa;
      points.push(p);
    }
    if (points.length) deps.store.writeExposure(points).catch((err: Error) => log.warn({ err: err.message, points: points.length }, 'exposure snapshot not stored'));
  }

  function tick() {
    const t = now();
    snapshot(t);
    const sensors = deps.registry.current.sensors;
    // Shifts whose end has passed with no later reading (a reading in flight may hold up to maxHoldMs).
    for (const [id, st] of states) {
      if (!st.shift || t < st.shift.endMs + st.window.maxHoldMs) continue;
      const s = sensors.get(id);
      if (s) closeShift(s, st, true);
      else st.shift = undefined;
    }
    const { silent, alive } = deadMan.check(sensors.values(), t);
    for (const q of silent) {
      const s = sensors.get(q.sensorId)!;
      alerts.fire({
        ...base(s), rule: 'dead-man', level: 'yellow',
        reason: { metric: q.neverReported ? 'never reported since start' : 'no reading for', value: Math.round(q.silentForMs / 1000), limit: Math.round(q.timeoutMs / 1000), unit: 's', source: `registry interval ${s.intervalS} s × ${config.deadManFactor ?? 5}` },
      }, t);
    }
    // Reporting again: clear at once (no hold: the reading itself is the evidence).
    for (const id of alive) alerts.clearNow(id, 'dead-man', t);
    health.lastTickAt = t;
  }

  const this_: RulesEngine = {
    async start() {
      const t = now();
      // Every alert still active, however long ago it was raised or last changed (a 30-day
      // window of events used to forget older ones).
      const active = await loadActiveAlerts(deps.store);
      if (active.truncated) log.warn({ restored: active.events.length }, 'more active alerts than MAX_ACTIVE_ALERTS: only the oldest were restored');
      alerts.restore(active.events);
      // Rebuild the exposure windows from stored readings, so a restart mid-shift changes no TWA.
      const from = t - (config.restoreMs ?? 12 * 3600_000);
      trackShiftsFrom = from;
      startedAt = t;
      let restored = 0;
      for (const s of deps.registry.current.sensors.values()) {
        const rs = await deps.store.queryReadings({ sensorId: s.id, from, to: t });
        for (const r of rs) ingestOne(s, r, false);
        restored += rs.length;
      }
      const every = deadMan.checkEveryMs(deps.registry.current.sensors.values());
      timer = setInterval(tick, every);
      timer.unref();
      Object.assign(health, { started: true, lastTickAt: now(), tickEveryMs: every });
      log.info({ restoredAlerts: alerts.active().length, restoredReadings: restored, deadManCheckMs: every }, 'rules engine ready');
    },
    handleReadings(readings) {
      const sensors = deps.registry.current.sensors;
      let newest = -Infinity;
      for (const r of readings) {
        const s = sensors.get(r.sensorId);
        if (s) ingestOne(s, r, true);
        if (r.ts > newest) newest = r.ts;
      }
      if (readings.length) {
        health.lastEvaluationAt = now();
        health.evaluated += readings.length;
        health.lagMs = health.lastEvaluationAt - newest;
      }
    },
    handlePresence(p) {
      const e = deps.registry.current.enterprises.get(p.enterpriseId);
      if (!e) return;
      // The alert is keyed by the gateway (as its "sensor"), rule gateway-offline.
      const key = `gateway:${p.enterpriseId}/${p.gatewayId}`;
      if (p.online) alerts.clearNow(key, 'gateway-offline', now());
      else alerts.fire({
        sensorId: key, rule: 'gateway-offline', enterpriseId: p.enterpriseId, gatewayId: p.gatewayId, agent: 'gateway', townshipId: e.township, level: 'yellow',
        reason: { metric: 'gateway offline (last will or disconnect)', value: 0, limit: 1, unit: 'connection', source: 'MQTT presence: retained status with last will (DESIGN.md)' },
      }, now());
    },
    handleRejections(rejections, ts) {
      const sensors = deps.registry.current.sensors;
      for (const rj of rejections) {
        if (rj.code !== 'HW_ERR_OUT_OF_RANGE' || !rj.sensor) continue;
        const s = sensors.get(rj.sensor);
        if (s && faults.outOfRange(s.id, ts)) apply(s, 'fault-out-of-range', FAULT_LEVEL, { metric: 'sensor fault: out-of-range', value: 10, limit: 10, unit: 'readings', source: 'readings outside the instrument range, 10 within 10 min' });
      }
    },
    acknowledge: (alertId, by, note) => alerts.acknowledge(alertId, by, note),
    resolve: (alertId, by, reason, note) => alerts.resolve(alertId, by, reason, note),
    comment: (alertId, by, note) => alerts.comment(alertId, by, note),
    command(cmd) {
      switch (cmd.op) {
        case 'ack': return alerts.acknowledge(cmd.alertId, cmd.by, cmd.note);
        case 'resolve': return alerts.resolve(cmd.alertId, cmd.by, cmd.reason, cmd.note);
        case 'comment': return alerts.comment(cmd.alertId, cmd.by, cmd.note);
      }
    },
    activeAlerts: () => alerts.active(),
    exposure(sensorId) {
      const s = deps.registry.current.sensors.get(sensorId);
      const st = states.get(sensorId);
      if (!s || !st) return undefined;
      const t = Math.max(now(), st.window.lastTs);
      const m = st.window.metrics(t);
      const shift = shiftOf(s, t);
      const noise = s.agentDef.kind === 'noise';
      const out: SensorExposure = { sensorId, ...m };
      const shiftMean = shift ? st.window.dose(shift.startMs, t).dose / (8 * 3600_000) : 0;
      if (noise) {
        const rule = noiseRuleOf(s);
        const a = assessDose(m.twa8h, rule);
        out.lex8h = Math.max(a.twaDb, -120); // no counted dose: −120 dB(A), as 10·lg(1e-12), not −Infinity (JSON, line protocol)
        out.dosePct = a.dosePct;
        // The shift's level so far, in dB(A) like lex8h.
        if (shift) out.shift = { ...shift, twa: Math.max(assessDose(shiftMean, rule).twaDb, -120) };
      } else if (shift) out.shift = { ...shift, twa: shiftMean };
      return out;
    },
    extremes8h(sensorId) {
      const st = states.get(sensorId);
      return st && st.window.extremes8h(Math.max(now(), st.window.lastTs));
    },
    grade(sensorId) {
      const s = deps.registry.current.sensors.get(sensorId);
      const x = this_.exposure(sensorId);
      const st = states.get(sensorId);
      const limits = s && limitsInForce(deps.catalogue, s.profileId, s.agentDef);
      if (!s || !x || !st || !limits) return undefined;
      // The same grading as the CLI (grade-point.ts), over the last 8 h: C_TWA, the highest
      // C_STE and the highest reading (the peak ratio of TWA-only agents), the registry's edition.
      const ext = this_.extremes8h(sensorId)!;
      return gradePoint({
        agent: s.agentDef, limits, excursionRule: excursionRuleOf(s), labour: s.labour, edition: deps.registry.current.file.grading ?? DEFAULT_GRADING_EDITION,
        x: { twa8h: x.twa8h, stel15max: ext.stel15max, peak: ext.peak, lex8h: x.lex8h },
      });
    },
    enterpriseGrade(enterpriseId) {
      const grades: Grade[] = [];
      for (const s of deps.registry.current.sensors.values()) {
        if (s.enterpriseId !== enterpriseId) continue;
        const g = this_.grade(s.id);
        if (g) grades.push(g.grade);
      }
      return grades.length ? worstGrade(grades) : undefined;
    },
    tick,
    flush: async () => {
      await save();
      await saveShifts();
    },
    status: () => ({ ...health, unsavedEvents: unsaved.length, unsavedShiftRecords: unsavedShifts.length, activeAlerts: alerts.count() }),
    async stop() {
      if (timer) clearInterval(timer);
      await save();
      await saveShifts();
    },
  };
  return this_;
}
