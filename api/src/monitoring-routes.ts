import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HwError } from '../../core/src/errors.ts';
import type { Catalogue } from '../../core/src/agents.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import type { Store } from '../../core/src/store/store.ts';
import type { Reading } from '../../core/src/types.ts';
import type { AlertView } from './alert-view.ts';
import { passRates } from '../../rules/src/kpi.ts';
import type { Grade, GradeResult } from '../../rules/src/grading.ts';

/**
 * Live exposure of a monitoring point (the rules engine's SensorExposure). For noise, `lex8h`
 * is the profile's 8-h level (GBZ LEX,8h; OSHA/NIOSH TWA from the dose) and `dosePct` the dose.
 */
export const LiveExposureSchema = Type.Object({
  sensorId: Type.String(),
  twa8h: Type.Number({ description: 'C_TWA of the last 8 h in the agent unit (noise: the dose fraction D/100)' }),
  coverage8h: Type.Number({ description: 'share of the last 8 h with readings, 0–1' }),
  stel15: Type.Number({ description: 'C_STE of the last 15 min' }),
  coverage15: Type.Number(),
  max15: Type.Number(),
  last: Type.Number(),
  lastTs: Type.Number(),
  lex8h: Type.Optional(Type.Number({ description: 'noise: the profile\'s 8-h level, dB(A)' })),
  dosePct: Type.Optional(Type.Number({ description: 'noise: daily dose % under the profile\'s rule (OSHA 1910.95 App. A; NIOSH; GBZ equal energy)' })),
  shift: Type.Optional(Type.Object({ name: Type.String(), startMs: Type.Number(), endMs: Type.Number(), twa: Type.Number({ description: 'the shift so far: C_TWA (ΣCiTi / 8 h), for noise its 8-h level in dB(A)' }) })),
}, { additionalProperties: true });
export type LiveExposure = Static<typeof LiveExposureSchema>;

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

const Range = Type.Object({
  from: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch' })),
  to: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since epoch' })),
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

  api.get('/api/sensors/:id/exposure', { schema: { querystring: Range, tags: ['sensors'], summary: 'Exposure metrics now and their per-minute history (TWA, STEL, LEX,8h, noise dose %, coverage)', response: { 200: Type.Object({ sensorId: Type.String(), current: Type.Union([LiveExposureSchema, Type.Null()]), history: Type.Array(Type.Object({}, { additionalProperties: true })) }) } } }, async (req) => {
    const s = visibleSensor(deps.userOf(req), (req.params as { id: string }).id);
    const q = req.query as { from?: number; to?: number };
    const to = q.to ?? deps.now();
    return { sensorId: s.id, current: deps.insights?.exposure(s.id) ?? null, history: await deps.store.queryExposure({ sensorId: s.id, from: q.from ?? to - 24 * 3600_000, to }) };
  });

  api.get('/api/kpi', { schema: { querystring: Type.Intersect([Range, Type.Object({ jurisdiction: Type.Optional(Type.String()) })]), tags: ['kpi'], summary: 'Plan KPI: workplace hazard monitoring pass rate per jurisdiction against its target' } }, async (req) => {
    const user = deps.userOf(req);
    const q = req.query as { from?: number; to?: number; jurisdiction?: string };
    const reg = deps.registry.current;
    // The user's own jurisdiction and everything under it (an enterprise officer: their township's figure is not theirs to see).
    if (user.role === 'enterprise') throw new HwError('HW_ERR_FORBIDDEN', 'the pass rate is for regulators');
    const subtree = [...reg.jurisdictions.values()].filter((j) => reg.ancestors(j.id).includes(user.scope)).map((j) => j.id);
    if (q.jurisdiction && !subtree.includes(q.jurisdiction)) throw new HwError('HW_ERR_NOT_FOUND', `jurisdiction ${q.jurisdiction}`);
    const to = q.to ?? deps.now();
    const from = q.from ?? to - 30 * 24 * 3600_000;
    const events = await deps.store.queryAlertEvents({ since: from });
    return passRates({ registry: reg, jurisdictionIds: q.jurisdiction ? [q.jurisdiction] : subtree, events, from, to, defaultTargetPct: deps.kpiTargetPct, enterpriseGrade: (e) => deps.insights?.enterpriseGrade(e) });
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

