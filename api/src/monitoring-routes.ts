import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HwError } from '../../core/src/errors.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Reading } from '../../core/src/types.ts';
import type { AlertView } from './alert-view.ts';
import { passRates } from '../../kpi/src/pass-rate.ts';
import { loadKpiInputs } from '../../kpi/src/kpi-inputs.ts';
import { checkAggregate, checkRange, MAX_EXPOSURE_SPAN_MS, MAX_INTERVAL_MS, MAX_PERIOD_SPAN_MS, MIN_INTERVAL_MS } from '../../core/src/store/time-range.ts';
import { EpochParam, errors } from './schemas.ts';
import type { Grade, GradeResult } from '../../core/src/types.ts';
import { LiveExposureSchema, type LiveExposure } from '../../core/src/pipeline-events.ts';

export { LiveExposureSchema, type LiveExposure };


/** What the rules engine can tell the API about live exposure (absent when it runs elsewhere). */
export interface Insights {
  grade(sensorId: string): GradeResult | undefined;
  enterpriseGrade(enterpriseId: string): Grade | undefined;
  exposure(sensorId: string): LiveExposure | undefined;
}

export interface MonitoringDeps {
  registry: RegistryHolder;
  catalogue: Catalogue;
  store: Store;
  view: AlertView;
  insights?: Insights;
  kpiTargetPct: number;
  userOf(req: FastifyRequest): UserDef;
  now: () => number;
}

const ExposureQuery = Type.Object({
  from: Type.Optional({ ...EpochParam, description: 'ms since the epoch; default 24 h before `to`; at most 7 days before it' }),
  to: Type.Optional({ ...EpochParam, description: 'ms since the epoch; default now' }),
}, { additionalProperties: false });
const KpiQuery = Type.Object({
  from: Type.Optional({ ...EpochParam, description: 'ms since the epoch; default 30 days before `to`; at most 366 days before it' }),
  to: Type.Optional({ ...EpochParam, description: 'ms since the epoch; default now' }),
  jurisdiction: Type.Optional(Type.String({ maxLength: 100 })),
}, { additionalProperties: false });
const History = Type.Object({
  from: EpochParam,
  to: EpochParam,
  intervalMs: Type.Optional(Type.Integer({ minimum: MIN_INTERVAL_MS, maximum: MAX_INTERVAL_MS, default: 60_000, description: 'bucket width, ms; at most 10,000 buckets in [from, to]' })),
  fn: Type.Optional(Type.Union([Type.Literal('mean'), Type.Literal('max')], { default: 'mean' })),
}, { additionalProperties: false });
// 200 answers: the fields clients rely on; `additionalProperties` keeps the rest (other helpers extend these rows).
const SensorRow = Type.Object({ id: Type.String(), enterpriseId: Type.String(), agent: Type.String(), unit: Type.String(), status: Type.String() }, { additionalProperties: true });
const HistoryAnswer = Type.Object({ sensorId: Type.String(), unit: Type.String(), fn: Type.String(), intervalMs: Type.Integer(), points: Type.Array(Type.Object({ ts: Type.Integer(), value: Type.Union([Type.Number(), Type.Null()]) })) });
const ExposureAnswer = Type.Object({ sensorId: Type.String(), current: Type.Union([LiveExposureSchema, Type.Null()]), history: Type.Array(Type.Object({ ts: Type.Integer() }, { additionalProperties: true })) });
const PassRateRow = Type.Object({
  jurisdictionId: Type.String(), points: Type.Integer(), passing: Type.Integer(), targetPct: Type.Number(),
  alertHistoriesNotRead: Type.Integer({ minimum: 0, description: 'alerts of the request\'s points opened before the 30-day look-back whose earlier history was not read (past 1,000): an exceedance of theirs may be missing; 0 = none' }),
  activeAlertsTruncated: Type.Boolean({ description: 'true when more than 10,000 alerts were active: exceedances of the others may be missing' }),
}, { additionalProperties: true });
const SensorParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });

/**
 * Sensors with their last reading and status, reading and exposure history, grades and
 * the plan KPI, every answer scoped to what the user may see. A sensor or jurisdiction
 * outside the user's scope answers 404, exactly like one that does not exist.
 */
export function registerMonitoringRoutes(api: FastifyInstance, deps: MonitoringDeps) {
  const last = new Map<string, { ts: number; value: number; unit: string; valueStd: number }>();

  const visibleSensor = (user: UserDef, id: string) => {
    const s = deps.registry.current.sensors.get(id);
    if (!s || !deps.registry.current.visibleEnterprises(user).has(s.enterpriseId)) throw new HwError('HW_ERR_NOT_FOUND', `sensor ${id}`);
    return s;
  };

  const statusOf = (id: string, intervalS: number): 'ok' | 'stale' | 'fault' | 'offline' | 'never' => {
    const active = deps.view.all().filter((a) => a.sensorId === id && a.state !== 'cleared');
    if (active.some((a) => a.rule === 'dead-man')) return 'offline';
    if (active.some((a) => a.rule.startsWith('fault-'))) return 'fault';
    const l = last.get(id);
    if (!l) return 'never';
    return deps.now() - l.ts > 3 * intervalS * 1000 ? 'stale' : 'ok';
  };

  api.get('/api/sensors', { schema: { querystring: Type.Object({ enterprise: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }), response: { 200: Type.Array(SensorRow), ...errors(400, 401) }, tags: ['sensors'], summary: 'Sensors you may see: last reading, status (ok, stale, fault, offline, never), limits, grade, live exposure' } }, async (req) => {
    const user = deps.userOf(req);
    const visible = deps.registry.current.visibleEnterprises(user);
    const only = (req.query as { enterprise?: string }).enterprise;
    return [...deps.registry.current.sensors.values()]
      .filter((s) => visible.has(s.enterpriseId) && (!only || s.enterpriseId === only))
      .map((s) => ({
        id: s.id, enterpriseId: s.enterpriseId, gatewayId: s.gatewayId, agent: s.agent, agentName: s.agentDef.name, agentNameEn: s.agentDef.nameEn,
        workplace: s.workplace, unit: s.unit, agentUnit: s.agentDef.unit, intervalS: s.intervalS,
        limits: deps.catalogue.limits(s.profileId, s.agent) ?? null,
        last: last.get(s.id) ?? null,
        status: statusOf(s.id, s.intervalS),
        grade: deps.insights?.grade(s.id) ?? null,
        exposure: deps.insights?.exposure(s.id) ?? null,
      }));
  });

  api.get('/api/sensors/:id/readings', { schema: { params: SensorParams, querystring: History, response: { 200: HistoryAnswer, ...errors(400, 401, 404, 414, 503) }, tags: ['sensors'], summary: 'Reading history over a range of at most 31 days, mean or max per interval (at most 10,000 intervals)' } }, async (req) => {
    const s = visibleSensor(deps.userOf(req), (req.params as { id: string }).id);
    const q = req.query as { from: number; to: number; intervalMs: number; fn: 'mean' | 'max' };
    const { from, to, intervalMs } = checkAggregate(q, { from: 'querystring/from', to: 'querystring/to', intervalMs: 'querystring/intervalMs' });
    return { sensorId: s.id, unit: s.agentDef.unit, fn: q.fn, intervalMs, points: await deps.store.aggregateReadings({ sensorId: s.id, from, to, intervalMs, fn: q.fn }) };
  });

  api.get('/api/sensors/:id/exposure', { schema: { params: SensorParams, querystring: ExposureQuery, response: { 200: ExposureAnswer, ...errors(400, 401, 404, 414, 503) }, tags: ['sensors'], summary: 'Exposure metrics now and their per-minute history (TWA, STEL, LEX,8h, coverage) over at most 7 days' } }, async (req) => {
    const s = visibleSensor(deps.userOf(req), (req.params as { id: string }).id);
    const q = req.query as { from?: number; to?: number };
    const to = q.to ?? Math.max(deps.now(), q.from ?? 0);
    const range = checkRange(q.from ?? Math.max(0, to - 24 * 3600_000), to, { maxSpanMs: MAX_EXPOSURE_SPAN_MS, fields: { from: 'querystring/from', to: 'querystring/to' } });
    // One point a minute: the span bound caps the answer at 10,080 points (+1 for a point on each end).
    return { sensorId: s.id, current: deps.insights?.exposure(s.id) ?? null, history: await deps.store.queryExposure({ sensorId: s.id, ...range }) };
  });

  api.get('/api/kpi', { schema: { querystring: KpiQuery, response: { 200: Type.Array(PassRateRow), ...errors(400, 401, 403, 404, 503) }, tags: ['kpi'], summary: 'Plan KPI per jurisdiction: monitoring pass rate (points without exceedance among those assessed), points not assessed for too little data, data completeness, against the target' } }, async (req) => {
    const user = deps.userOf(req);
    const q = req.query as { from?: number; to?: number; jurisdiction?: string };
    const reg = deps.registry.current;
    // The user's own jurisdiction and everything under it (an enterprise officer: their township's figure is not theirs to see).
    if (user.role === 'enterprise') throw new HwError('HW_ERR_FORBIDDEN', 'the pass rate is for regulators');
    const subtree = [...reg.jurisdictions.values()].filter((j) => reg.ancestors(j.id).includes(user.scope)).map((j) => j.id);
    if (q.jurisdiction && !subtree.includes(q.jurisdiction)) throw new HwError('HW_ERR_NOT_FOUND', `jurisdiction ${q.jurisdiction}`);
    const to = q.to ?? Math.max(deps.now(), q.from ?? 0);
    const { from } = checkRange(q.from ?? Math.max(0, to - 30 * 24 * 3600_000), to, { maxSpanMs: MAX_PERIOD_SPAN_MS, fields: { from: 'querystring/from', to: 'querystring/to' } });
    if (from >= to) throw new HwError('HW_ERR_BAD_RANGE', 'querystring/from must be before querystring/to');
    const jurisdictionIds = q.jurisdiction ? [q.jurisdiction] : subtree;
    const sensors = [...reg.sensors.values()].filter((s) => {
      const e = reg.enterprises.get(s.enterpriseId);
      return e !== undefined && jurisdictionIds.some((j) => reg.ancestors(e.township).includes(j));
    });
    const { exceedances, completeness, alertHistoriesNotRead, activeAlertsTruncated } = await loadKpiInputs(deps.store, sensors, from, to);
    // What could not be read is stated in every row, never left out silently.
    return passRates({ registry: reg, jurisdictionIds, exceedances, completeness, from, to, defaultTargetPct: deps.kpiTargetPct, enterpriseGrade: (e) => deps.insights?.enterpriseGrade(e) })
      .map((row) => ({ ...row, alertHistoriesNotRead, activeAlertsTruncated }));
  });

  return {
    /** Feed accepted readings (the last value per sensor). */
    onReadings(readings: readonly Reading[]) {
      for (const r of readings) {
        const cur = last.get(r.sensorId);
        if (!cur || r.ts >= cur.ts) last.set(r.sensorId, { ts: r.ts, value: r.value, unit: r.unit, valueStd: r.valueStd });
      }
    },
  };
}

