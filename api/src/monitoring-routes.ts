import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { HwError } from '../../core/src/errors.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Reading } from '../../core/src/types.ts';
import type { AlertView } from './alert-view.ts';
import { passRates } from '../../rules/src/kpi.ts';
import { loadKpiInputs } from './kpi-data.ts';
import type { Grade, GradeResult } from '../../rules/src/grading.ts';

/** What the rules engine can tell the API about live exposure (absent when it runs elsewhere). */
export interface Insights {
  grade(sensorId: string): GradeResult | undefined;
  enterpriseGrade(enterpriseId: string): Grade | undefined;
  exposure(sensorId: string): { twa8h: number; stel15: number; coverage8h: number; lex8h?: number } | undefined;
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

const Range = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch' })),
});
/** Longest KPI period: a year (366 days), so the hourly completeness stays bounded. */
const KPI_MAX_PERIOD_MS = 366 * 24 * 3600_000;
/** Latest time a JavaScript Date can hold (ms). */
const MAX_EPOCH_MS = 8.64e15;
const KpiQuery = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_EPOCH_MS, description: 'start of the period, ms since epoch (default: to − 30 days)' })),
  to: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_EPOCH_MS, description: 'end of the period, ms since epoch (default: now); at most 366 days after from' })),
  jurisdiction: Type.Optional(Type.String({ maxLength: 200 })),
});
const History = Type.Object({
  from: Type.Integer({ minimum: 0 }),
  to: Type.Integer({ minimum: 0 }),
  intervalMs: Type.Integer({ minimum: 1000, default: 60_000 }),
  fn: Type.Union([Type.Literal('mean'), Type.Literal('max')], { default: 'mean' }),
});

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

  api.get('/api/sensors', { schema: { querystring: Type.Object({ enterprise: Type.Optional(Type.String()) }), tags: ['sensors'], summary: 'Sensors you may see: last reading, status (ok, stale, fault, offline, never), limits, grade, live exposure' } }, async (req) => {
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

  api.get('/api/sensors/:id/readings', { schema: { querystring: History, tags: ['sensors'], summary: 'Reading history over a range, mean or max per interval' } }, async (req) => {
    const s = visibleSensor(deps.userOf(req), (req.params as { id: string }).id);
    const q = req.query as { from: number; to: number; intervalMs: number; fn: 'mean' | 'max' };
    if (q.to < q.from) throw new HwError('HW_ERR_BAD_REQUEST', 'querystring/to must not be before querystring/from');
    if ((q.to - q.from) / q.intervalMs > 5000) throw new HwError('HW_ERR_BAD_REQUEST', 'querystring/intervalMs is too small for the range (at most 5000 points)');
    return { sensorId: s.id, unit: s.agentDef.unit, fn: q.fn, intervalMs: q.intervalMs, points: await deps.store.aggregateReadings({ sensorId: s.id, from: q.from, to: q.to, intervalMs: q.intervalMs, fn: q.fn }) };
  });

  api.get('/api/sensors/:id/exposure', { schema: { querystring: Range, tags: ['sensors'], summary: 'Exposure metrics now and their per-minute history (TWA, STEL, LEX,8h, coverage)' } }, async (req) => {
    const s = visibleSensor(deps.userOf(req), (req.params as { id: string }).id);
    const q = req.query as { from?: number; to?: number };
    const to = q.to ?? deps.now();
    return { sensorId: s.id, current: deps.insights?.exposure(s.id) ?? null, history: await deps.store.queryExposure({ sensorId: s.id, from: q.from ?? to - 24 * 3600_000, to }) };
  });

  api.get('/api/kpi', { schema: { querystring: KpiQuery, tags: ['kpi'], summary: 'Plan KPI per jurisdiction: monitoring pass rate (points without exceedance among those assessed), points not assessed for too little data, data completeness, against the target' } }, async (req) => {
    const user = deps.userOf(req);
    const q = req.query as { from?: number; to?: number; jurisdiction?: string };
    const reg = deps.registry.current;
    // The user's own jurisdiction and everything under it (an enterprise officer: their township's figure is not theirs to see).
    if (user.role === 'enterprise') throw new HwError('HW_ERR_FORBIDDEN', 'the pass rate is for regulators');
    const subtree = [...reg.jurisdictions.values()].filter((j) => reg.ancestors(j.id).includes(user.scope)).map((j) => j.id);
    if (q.jurisdiction && !subtree.includes(q.jurisdiction)) throw new HwError('HW_ERR_NOT_FOUND', `jurisdiction ${q.jurisdiction}`);
    const to = q.to ?? deps.now();
    const from = q.from ?? to - 30 * 24 * 3600_000;
    if (from >= to) throw new HwError('HW_ERR_BAD_REQUEST', 'querystring/from must be before querystring/to');
    if (to - from > KPI_MAX_PERIOD_MS) throw new HwError('HW_ERR_BAD_REQUEST', 'querystring/from: the period is longer than 366 days');
    const jurisdictionIds = q.jurisdiction ? [q.jurisdiction] : subtree;
    const sensors = [...reg.sensors.values()].filter((s) => {
      const e = reg.enterprises.get(s.enterpriseId);
      return e !== undefined && jurisdictionIds.some((j) => reg.ancestors(e.township).includes(j));
    });
    const { exceedances, completeness } = await loadKpiInputs(deps.store, sensors, from, to);
    return passRates({ registry: reg, jurisdictionIds, exceedances, completeness, from, to, defaultTargetPct: deps.kpiTargetPct, enterpriseGrade: (e) => deps.insights?.enterpriseGrade(e) });
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

