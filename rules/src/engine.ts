import type { Catalogue } from '../../core/src/agents.ts';
import type { Rejection } from '../../core/src/errors.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder, SensorEntry } from '../../core/src/registry.ts';
import type { ExposurePoint, Store } from '../../core/src/store/store.ts';
import type { Alert, AlertCommand, AlertEvent, AlertLevel, AlertReason, Reading, ResolveReason } from '../../core/src/types.ts';
import { createAlertManager } from './alert-manager.ts';
import { createDeadMan } from './dead-man.ts';
import { forecast } from './early-warning.ts';
import { evaluate } from './evaluate.ts';
import { createFaultDetector, type FaultKind } from './sensor-faults.ts';
import { currentShift } from '../../core/src/shifts.ts';
import { gradeChemical, gradeDust, gradeNoise, worstGrade, WD, type Grade, type GradeResult, type GradingEdition } from './grading.ts';
import { ExposureWindow, type WindowMetrics } from './window.ts';

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
  /** GBZ/T 229 edition for risk grades. */
  gradingEdition?: GradingEdition;
}

export interface RulesDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** Every alert event (the API pushes these). */
  onAlertEvent?: (e: AlertEvent) => void;
  now?: () => number;
}

/** What the engine knows of one sensor now. */
export interface SensorExposure extends WindowMetrics {
  sensorId: string;
  /** LEX,8h in dB(A) for noise (equal energy); undefined otherwise. */
  lex8h?: number;
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
}

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
  // Noise is averaged as energy (10^(L/10)), GBZ 2.2-2007 / ISO 9612 equal-energy rule.
  const toWindow = (s: SensorEntry, v: number) => (s.agentDef.kind === 'noise' ? 10 ** (v / 10) : v);

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

  function ingestOne(s: SensorEntry, r: Pick<Reading, 'ts' | 'valueStd' | 'clamped'>, evaluateNow: boolean) {
    deadMan.seen(s.id, r.ts);
    const st = stateOf(s);
    if (!st.window.add(r.ts, toWindow(s, r.valueStd))) return; // out of order: counted, not windowed
    // The trend feeds the gas and dust forecasts below; noise and radon have none.
    if (s.agentDef.kind === 'gas' || s.agentDef.kind === 'dust') {
      st.recent.push([r.ts, r.valueStd]);
      let drop = 0;
      while (drop < st.recent.length && st.recent[drop]![0] < r.ts - TREND_WINDOW_MS) drop++;
      drop = Math.max(drop, st.recent.length - 120);
      if (drop > 0) st.recent.splice(0, drop);
    }
    if (!evaluateNow) return;

    const limits = deps.catalogue.limits(s.profileId, s.agent);
    const m = st.window.metrics(r.ts);
    for (const v of evaluate(s.agentDef, limits, m, r.valueStd)) {
      if (v.reason && (v.rule === 'twa' || v.rule === 'lex8h' || v.rule === 'radon-mean')) v.reason.coverage = Math.round(m.coverage8h * 1000) / 1000;
      apply(s, v.rule, v.level, v.reason);
    }
    if (limits && (s.agentDef.kind === 'gas' || s.agentDef.kind === 'dust')) {
      const shift = shiftOf(s, r.ts);
      const recentLevel = m.coverage15 > 0 ? m.stel15 / m.coverage15 : r.valueStd;
      const fc = forecast({
        limits, unit: s.agentDef.unit, now: r.ts, recent: st.recent, recentLevel, dose15: m.stel15 * 15 * 60_000,
        shift: shift ? { dose: st.window.dose(shift.startMs, r.ts).dose, endMs: shift.endMs } : undefined,
      });
      const fired = new Set(fc.map((f) => f.rule));
      for (const f of fc) apply(s, f.rule, 'blue', f.reason);
      for (const rule of ['forecast-twa', 'forecast-stel', 'forecast-mac'] as const) if (!fired.has(rule)) apply(s, rule, undefined);
    }
    const { active, ended } = faults.reading(s.id, r.ts, r.valueStd, r.clamped === true);
    for (const f of active) apply(s, `fault-${f}`, FAULT_LEVEL, faultReason(f, s, r.valueStd));
    for (const f of ended) if (alerts.isActive(s.id, `fault-${f}`)) apply(s, `fault-${f}`, undefined);
  }

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
      const events = await deps.store.queryAlertEvents({ since: t - 30 * 24 * 3600_000 });
      alerts.restore(events);
      // Rebuild the exposure windows from stored readings, so a restart mid-shift changes no TWA.
      const from = t - (config.restoreMs ?? 12 * 3600_000);
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
      if (noise) out.lex8h = 10 * Math.log10(Math.max(m.twa8h, 1e-12));
      if (shift) out.shift = { ...shift, twa: st.window.dose(shift.startMs, t).dose / (8 * 3600_000) };
      return out;
    },
    grade(sensorId) {
      const s = deps.registry.current.sensors.get(sensorId);
      const x = this_.exposure(sensorId);
      const limits = s && deps.catalogue.limits(s.profileId, s.agent);
      if (!s || !x || !limits) return undefined;
      const edition = config.gradingEdition ?? 'GBZ/T229-2025';
      const a = s.agentDef;
      if (a.kind === 'noise') return gradeNoise(x.lex8h ?? 0);
      if (a.kind === 'dust' && limits.pcTwa) return gradeDust({ twa: x.twa8h, pcTwa: limits.pcTwa.value, freeSilicaPct: a.freeSilicaPct ?? 5, labour: s.labour, edition });
      if (a.kind === 'gas') {
        return gradeChemical({
          ratios: { twa: limits.pcTwa ? x.twa8h / limits.pcTwa.value : undefined, stel: limits.pcStel ? x.stel15 / limits.pcStel.value : undefined, mac: limits.mac ? x.max15 / limits.mac.value : undefined },
          wd: WD[a.toxicity ?? 'moderate'], labour: s.labour, edition, raiseOne: Boolean(a.carcinogen || a.sensitiser || a.skin),
        });
      }
      return undefined;
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
    flush: () => save(),
    status: () => ({ ...health, unsavedEvents: unsaved.length, activeAlerts: alerts.count() }),
    async stop() {
      if (timer) clearInterval(timer);
      await save();
    },
  };
  return this_;
}
