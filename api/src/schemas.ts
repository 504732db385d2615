import { Type } from '@sinclair/typebox';
import { ALERT_LEVELS, RESOLVE_REASONS } from '../../core/src/types.ts';

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

export const UserSchema = Type.Object({ username: Type.String(), name: Type.String(), role: Type.String(), scope: Type.String() });

export const HealthSchema = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')]),
  components: Type.Record(Type.String(), Type.Object({ ok: Type.Boolean(), detail: Type.Optional(Type.String()) })),
});

/** Common error replies, for the OpenAPI document. */
export const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ErrorSchema]));
