import { Type, type Static } from '@sinclair/typebox';
import type { UserDef } from '../../core/src/registry.ts';
import { ALERT_LEVELS, RESOLVE_REASONS } from '../../core/src/types.ts';
import { MAX_TS_MS, MIN_TS_MS } from '../../core/src/store/time-range.ts';

/**
 * Response schemas: they document the API (OpenAPI at /docs) and Fastify serialises
 * through them, so a field that is not declared here never leaks out.
 * They mirror core/src/types.ts; the route tests read every field back.
 */
const Epoch = Type.Integer({ description: 'ms since the epoch' });

export const AlertReasonSchema = Type.Object({
  metric: Type.String(),
  value: Type.Number(),
  limit: Type.Number(),
  unit: Type.String(),
  source: Type.String({ description: 'standard and clause of the limit' }),
  expectedAt: Type.Optional(Type.Number({ description: 'early warnings: when the limit is expected to be passed' })),
  coverage: Type.Optional(Type.Number({ description: 'share of the averaging window that was measured, 0–1' })),
});

export const AlertSchema = Type.Object({
  id: Type.String(),
  sensorId: Type.String(),
  rule: Type.String(),
  enterpriseId: Type.String(),
  gatewayId: Type.String(),
  agent: Type.String(),
  townshipId: Type.String(),
  level: Type.Union(ALERT_LEVELS.map((l) => Type.Literal(l))),
  state: Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('cleared')]),
  reason: AlertReasonSchema,
  openedAt: Epoch,
  updatedAt: Epoch,
  ackBy: Type.Optional(Type.String()),
  ackNote: Type.Optional(Type.String()),
  resolution: Type.Optional(Type.Object({
    by: Type.String(),
    reason: Type.Union(RESOLVE_REASONS.map((r) => Type.Literal(r))),
    note: Type.String(),
    at: Epoch,
  })),
});

export const AlertEventSchema = Type.Object({
  alertId: Type.String(),
  kind: Type.String({ description: 'raised, escalated, deescalated, acknowledged, cleared, resolved or commented' }),
  ts: Epoch,
  alert: AlertSchema,
  by: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
});

export const AuditEntrySchema = Type.Object({
  ts: Epoch,
  kind: Type.String(),
  by: Type.Optional(Type.String()),
  note: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  alertId: Type.String(),
  enterpriseId: Type.String(),
  sensorId: Type.String(),
  level: Type.String(),
});

export const ErrorSchema = Type.Object({ code: Type.String(), message: Type.String() });

export const JurisdictionSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  nameEn: Type.Optional(Type.String()),
  level: Type.String({ description: 'city, district or township' }),
  parent: Type.Optional(Type.String()),
  kpiTargetPct: Type.Optional(Type.Number()),
});

export const EnterpriseSummarySchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  nameEn: Type.Optional(Type.String()),
  industry: Type.String(),
  township: Type.String(),
  profile: Type.String(),
  grade: Type.Union([Type.Integer(), Type.Null()], { description: 'GBZ/T 229 grade of the worst point (null when not graded)' }),
  sensors: Type.Integer(),
  openAlerts: Type.Integer(),
});

export const UserSchema = Type.Object({ username: Type.String(), name: Type.String(), role: Type.String(), scope: Type.String() });
/** A user as the API shows them: the fields of UserSchema, never the password hash. */
export const publicUser = (u: UserDef): Static<typeof UserSchema> => ({ username: u.username, name: u.name, role: u.role, scope: u.scope });

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  components: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })),
});

/** Common error replies, for the OpenAPI document: every status a route can answer is declared. */
export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, { ...ErrorSchema, description: STATUS_TEXT[c] ?? 'error' }]));
const STATUS_TEXT: Record<number, string> = {
  400: 'bad request: the code and message name the field (HW_ERR_VALIDATION, HW_ERR_BAD_RANGE, HW_ERR_BAD_ID, …)',
  401: 'not logged in, session expired, or wrong credentials',
  403: 'not allowed for your role',
  404: 'not found, or outside your jurisdiction (the same answer)',
  409: 'the alert is not in a state that allows this action',
  413: 'request body larger than the limit',
  414: 'a path parameter longer than 1000 characters',
  415: 'request body is not application/json',
  429: 'too many attempts; see Retry-After',
  503: 'the store or the session store is unavailable',
};

/** A time in a query string, ms since the epoch, within what Date and InfluxDB can hold (core/src/store/time-range.ts). */
export const EpochParam = Type.Integer({ minimum: MIN_TS_MS, maximum: MAX_TS_MS, description: 'ms since the epoch' });
