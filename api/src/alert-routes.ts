import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type, type Static } from '@sinclair/typebox';
import { HwError } from '../../core/src/errors.ts';
import type { RegistryHolder, UserDef } from '../../core/src/registry.ts';
import { checkId } from '../../core/src/store/influxql.ts';
import type { Store } from '../../core/src/store/store.ts';
import { checkRange, MAX_OFFSET, MAX_PAGE_SIZE, MAX_PERIOD_SPAN_MS } from '../../core/src/store/time-range.ts';
import { ALERT_LEVELS, RESOLVE_REASONS, type Alert, type AlertCommand, type AlertEvent } from '../../core/src/types.ts';
import type { AlertView } from './alert-view.ts';
import { AlertEventSchema, AlertSchema, AuditEntrySchema, EpochParam, errors } from './schemas.ts';

/**
 * Runs a person's command on an alert (the rules engine owns the lifecycle): the event it
 * caused, null when the alert is not in a state that allows it, undefined when nobody
 * answered (the owning rules worker is down).
 */
export interface AlertActions {
  run(cmd: AlertCommand): Promise<AlertEvent | null | undefined> | AlertEvent | null | undefined;
}

export interface AlertRoutesDeps {
  registry: RegistryHolder;
  store: Store;
  view: AlertView;
  actions: AlertActions;
  userOf(req: FastifyRequest): UserDef;
  canSee(user: UserDef, alert: Pick<Alert, 'enterpriseId'>): boolean;
  now: () => number;
}

// A field with a default is optional (the default fills it), and is declared so in OpenAPI.
const AckBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 2000, default: '' })) }, { additionalProperties: false });
const ResolveBody = Type.Object({
  reason: Type.Union(RESOLVE_REASONS.map((r) => Type.Literal(r)), { description: 'exceedance (a real exceedance), false-alarm or sensor-fault' }),
  note: Type.Optional(Type.String({ maxLength: 2000, default: '' })),
}, { additionalProperties: false });
const CommentBody = Type.Object({ note: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false });
const AlertParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) });
const AlertsQuery = Type.Object({
  state: Type.Optional(Type.Union([Type.Literal('open'), Type.Literal('acknowledged'), Type.Literal('cleared'), Type.Literal('active')])),
  level: Type.Optional(Type.Union(ALERT_LEVELS.map((l) => Type.Literal(l)))),
  agent: Type.Optional(Type.String({ maxLength: 100 })),
  jurisdiction: Type.Optional(Type.String({ maxLength: 100, description: 'a jurisdiction id: alerts of the enterprises under it' })),
  enterprise: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(EpochParam),
  to: Type.Optional(EpochParam),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_OFFSET, default: 0 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
}, { additionalProperties: false });
const AuditQuery = Type.Object({
  from: Type.Optional(EpochParam),
  to: Type.Optional(EpochParam),
  alertId: Type.Optional(Type.String({ maxLength: 200 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 500 })),
}, { additionalProperties: false });
/** Alert events made by a person: the audit log. */
const AUDITED = new Set(['acknowledged', 'resolved', 'commented']);

/**
 * GET /api/alerts (filtered, paged), GET /api/alerts/:id with its history, the commands
 * a person runs on an alert (ack, resolve, comment: the rules engine carries them out),
 * and GET /api/audit, the log of those commands.
 */
export function registerAlertRoutes(api: FastifyInstance, deps: AlertRoutesDeps) {
  const { view, userOf, canSee } = deps;

  api.get('/api/alerts', { schema: { querystring: AlertsQuery, response: { 200: Type.Array(AlertSchema), ...errors(400, 401, 404) }, tags: ['alerts'], summary: 'Alerts you may see, worst level first, filtered and paged (total in x-total-count)' } }, async (req, reply) => {
    const user = userOf(req);
    const q = req.query as Static<typeof AlertsQuery> & { offset: number; limit: number };
    if (q.from !== undefined && q.to !== undefined) checkRange(q.from, q.to);
    const reg = deps.registry.current;
    // A jurisdiction outside the caller's subtree (an enterprise officer's: their township's)
    // answers exactly as an unknown one, so sibling ids cannot be probed (as /api/kpi).
    const root = user.role === 'enterprise' ? reg.enterprises.get(user.scope)?.township : user.scope;
    if (q.jurisdiction && !(root !== undefined && reg.jurisdictions.has(q.jurisdiction) && reg.ancestors(q.jurisdiction).includes(root))) throw new HwError('HW_ERR_NOT_FOUND', `jurisdiction ${q.jurisdiction}`);
    const matches = view.all()
      .filter((a) => canSee(user, a))
      .filter((a) => !q.state || (q.state === 'active' ? a.state !== 'cleared' : a.state === q.state))
      .filter((a) => !q.level || a.level === q.level)
      .filter((a) => !q.agent || a.agent === q.agent)
      .filter((a) => !q.enterprise || a.enterpriseId === q.enterprise)
      .filter((a) => !q.jurisdiction || reg.ancestors(a.townshipId).includes(q.jurisdiction))
      // In the time range: the alert was active at some point in [from, to].
      .filter((a) => (q.from === undefined || a.state !== 'cleared' || a.updatedAt >= q.from) && (q.to === undefined || a.openedAt <= q.to))
      .sort((a, b) => ALERT_LEVELS.indexOf(b.level) - ALERT_LEVELS.indexOf(a.level) || b.updatedAt - a.updatedAt);
    void reply.header('x-total-count', String(matches.length));
    return matches.slice(q.offset, q.offset + q.limit);
  });

  /** An alert the user may see, or 404 alike for foreign and unknown ids (ids cannot be probed). */
  const visibleAlert = (user: UserDef, id: string): Alert => {
    const alert = view.get(id);
    if (!alert || !canSee(user, alert)) throw new HwError('HW_ERR_NOT_FOUND', `alert ${id}`);
    return alert;
  };
  const act = async (cmd: AlertCommand) => {
    const state = view.get(cmd.alertId)?.state;
    const allowed = cmd.op === 'ack' ? state === 'open' : state !== 'cleared';
    const e = allowed ? await deps.actions.run(cmd) : null;
    if (e === undefined) throw new HwError('HW_ERR_RULES_UNAVAILABLE', `alert ${cmd.alertId}: nothing was done`);
    if (!e) throw new HwError('HW_ERR_CONFLICT', `alert ${cmd.alertId} is ${state}: ${cmd.op === 'ack' ? 'only an open alert can be acknowledged' : 'it has already cleared'}`);
    return e.alert;
  };

  api.get('/api/alerts/:id', { schema: { params: AlertParams, response: { 200: Type.Object({ alert: AlertSchema, events: Type.Array(AlertEventSchema) }), ...errors(400, 401, 404, 414, 503) }, tags: ['alerts'], summary: 'One alert and its whole history' } }, async (req) => {
    const user = userOf(req);
    const { id } = req.params as { id: string };
    const alert = visibleAlert(user, id);
    return { alert, events: await deps.store.queryAlertEvents({ alertId: id }) };
  });

  api.post('/api/alerts/:id/ack', { schema: { params: AlertParams, body: AckBody, response: { 200: AlertSchema, ...errors(400, 401, 404, 409, 413, 414, 415, 503) }, tags: ['alerts'], summary: 'Acknowledge an open alert with a note' } }, async (req) => {
    const user = userOf(req);
    const { id } = req.params as { id: string };
    visibleAlert(user, id);
    return act({ op: 'ack', alertId: id, by: user.username, note: (req.body as { note?: string }).note ?? '' });
  });

  api.post('/api/alerts/:id/resolve', { schema: { params: AlertParams, body: ResolveBody, response: { 200: AlertSchema, ...errors(400, 401, 403, 404, 409, 413, 414, 415, 503) }, tags: ['alerts'], summary: 'Resolve an active alert with a reason (regulators only)' } }, async (req) => {
    const user = userOf(req);
    const { id } = req.params as { id: string };
    visibleAlert(user, id);
    // Closing an alert is the regulator's decision; an enterprise officer acknowledges and comments.
    if (user.role === 'enterprise') throw new HwError('HW_ERR_FORBIDDEN', 'only a regulator may resolve an alert');
    const body = req.body as Static<typeof ResolveBody>;
    return act({ op: 'resolve', alertId: id, by: user.username, reason: body.reason, note: body.note ?? '' });
  });

  api.post('/api/alerts/:id/comment', { schema: { params: AlertParams, body: CommentBody, response: { 200: AlertSchema, ...errors(400, 401, 404, 409, 413, 414, 415, 503) }, tags: ['alerts'], summary: 'Add a note (e.g. rectification steps) to an active alert' } }, async (req) => {
    const user = userOf(req);
    const { id } = req.params as { id: string };
    visibleAlert(user, id);
    return act({ op: 'comment', alertId: id, by: user.username, note: (req.body as { note: string }).note });
  });

  api.get('/api/audit', { schema: { querystring: AuditQuery, response: { 200: Type.Array(AuditEntrySchema), ...errors(400, 401, 503) }, tags: ['alerts'], summary: 'The audit log: every acknowledgement, resolution and comment you may see, newest first, over at most 366 days (default: the last 366 days)' } }, async (req) => {
    const user = userOf(req);
    const q = req.query as Static<typeof AuditQuery> & { limit: number };
    const to = q.to ?? Math.max(deps.now(), q.from ?? 0);
    const { from } = checkRange(q.from ?? Math.max(0, to - MAX_PERIOD_SPAN_MS), to, { maxSpanMs: MAX_PERIOD_SPAN_MS });
    if (q.alertId !== undefined) checkId(q.alertId, 'querystring/alertId');
    const events = await deps.store.queryAlertEvents({ since: from, alertId: q.alertId });
    return events
      .filter((e) => AUDITED.has(e.kind) && canSee(user, e.alert) && e.ts <= to)
      .sort((a, b) => b.ts - a.ts)
      .slice(0, q.limit)
      .map((e) => ({ ts: e.ts, kind: e.kind, by: e.by, note: e.note, reason: e.kind === 'resolved' ? e.alert.resolution?.reason : undefined, alertId: e.alertId, enterpriseId: e.alert.enterpriseId, sensorId: e.alert.sensorId, level: e.alert.level }));
  });
}
