import type { Selectable } from 'kysely';
import type { Alert, AlertEvent, AlertEventKind, AlertLevel, AlertState } from '../../../core/src/types.ts';
import { checkPage, pairCursor, parseSeqCursor, parseTimeCursor, toPage, type Page, type PageRequest } from '../page.ts';
import type { AlertEventTable, AlertTable } from '../schema.ts';
import { inSubtree } from './jurisdictions.ts';
import { chunks, fromExcluded, inTransaction, present, type Db } from './write.ts';

/** An alert event as the rules engine emits it, with an optional identity for redelivery. */
export type AlertEventInput = AlertEvent & {
  /** The producer's id for this event (a stream entry id): stored once however often it is delivered. */
  dedupKey?: string;
};

/** A stored event: the event plus its generated id (insertion order). */
export type StoredAlertEvent = AlertEvent & { id: number };

export interface AlertFilter {
  enterpriseId?: string;
  sensorId?: string;
  states?: readonly AlertState[];
  level?: AlertLevel;
  /** Alerts of enterprises anywhere under this jurisdiction (by the alert's township). */
  within?: string;
}

const ALERT_COLUMNS = ['sensor_id', 'enterprise_id', 'gateway_id', 'township_id', 'agent', 'rule', 'level', 'state', 'opened_at', 'updated_at', 'json'] as const;

const alertRow = (a: Alert): AlertTable => ({
  id: a.id,
  sensor_id: a.sensorId,
  enterprise_id: a.enterpriseId,
  gateway_id: a.gatewayId,
  township_id: a.townshipId,
  agent: a.agent,
  rule: a.rule,
  level: a.level,
  state: a.state,
  opened_at: a.openedAt,
  updated_at: a.updatedAt,
  json: JSON.stringify(a),
});

const toEvent = (r: Selectable<AlertEventTable>): StoredAlertEvent => ({
  id: r.id,
  alertId: r.alert_id,
  kind: r.kind as AlertEventKind,
  ts: r.ts,
  alert: JSON.parse(r.alert_json) as Alert,
  ...present({ by: r.by, note: r.note }),
});

/** The last event of each alert in a batch (time, then batch order): one upsert row per alert. */
function latestPerAlert(events: readonly AlertEvent[]): Alert[] {
  const last = new Map<string, AlertEvent>();
  for (const e of events) {
    const seen = last.get(e.alertId);
    if (!seen || e.ts >= seen.ts) last.set(e.alertId, e);
  }
  return [...last.values()].map((e) => e.alert);
}

export function alertsRepo(db: Db) {
  return {
    /**
     * Appends events (each its own row, so two in one millisecond are both kept) and moves
     * each alert's row to its latest state, in one transaction. An event older than the
     * alert's stored state is kept in the history but does not roll the state back.
     * Returns how many events were stored (a redelivered dedupKey is not).
     */
    async appendEvents(events: readonly AlertEventInput[]): Promise<number> {
      return inTransaction(db, async (tx) => {
        let stored = 0;
        for (const part of chunks(events)) {
          const r = await tx.insertInto('alert_events')
            .values(part.map((e) => ({ dedup_key: e.dedupKey ?? null, alert_id: e.alertId, kind: e.kind, ts: e.ts, by: e.by ?? null, note: e.note ?? null, alert_json: JSON.stringify(e.alert) })))
            .onConflict((oc) => oc.column('dedup_key').doNothing())
            .executeTakeFirst();
          stored += Number(r.numInsertedOrUpdatedRows ?? 0n);
        }
        for (const part of chunks(latestPerAlert(events))) {
          await tx.insertInto('alerts').values(part.map(alertRow))
            .onConflict((oc) => oc.column('id').doUpdateSet(fromExcluded<AlertTable>(ALERT_COLUMNS))
              .where('alerts.updated_at', '<=', (eb) => eb.ref('excluded.updated_at')))
            .execute();
        }
        return stored;
      });
    },

    async get(id: string): Promise<Alert | undefined> {
      const row = await db.selectFrom('alerts').select('json').where('id', '=', id).executeTakeFirst();
      return row && (JSON.parse(row.json) as Alert);
    },

    /** Newest opened first (opened_at, then id, descending). */
    async list(page: PageRequest, filter: AlertFilter = {}): Promise<Page<Alert>> {
      checkPage(page);
      if (filter.states?.length === 0) return { items: [] };
      let q = db.selectFrom('alerts').select(['id', 'opened_at', 'json']).orderBy('opened_at', 'desc').orderBy('id', 'desc').limit(page.limit + 1);
      if (filter.enterpriseId !== undefined) q = q.where('enterprise_id', '=', filter.enterpriseId);
      if (filter.sensorId !== undefined) q = q.where('sensor_id', '=', filter.sensorId);
      if (filter.states !== undefined) q = q.where('state', 'in', [...filter.states]);
      if (filter.level !== undefined) q = q.where('level', '=', filter.level);
      if (filter.within !== undefined) q = q.where(inSubtree('township_id', filter.within));
      if (page.after !== undefined) {
        const { ts, id } = parseTimeCursor(page.after);
        q = q.where((eb) => eb(eb.refTuple('opened_at', 'id'), '<', eb.tuple(ts, id)));
      }
      return toPage(await q.execute(), page.limit, (r) => JSON.parse(r.json) as Alert, (r) => pairCursor(r.opened_at, r.id));
    },

    /** Events in the order they were stored; `alertId` keeps one alert's, `since` (ms) those at or after a time. */
    async events(page: PageRequest, filter: { alertId?: string; since?: number } = {}): Promise<Page<StoredAlertEvent>> {
      checkPage(page);
      let q = db.selectFrom('alert_events').selectAll().orderBy('id').limit(page.limit + 1);
      if (filter.alertId !== undefined) q = q.where('alert_id', '=', filter.alertId);
      if (filter.since !== undefined) q = q.where('ts', '>=', filter.since);
      if (page.after !== undefined) q = q.where('id', '>', parseSeqCursor(page.after));
      return toPage(await q.execute(), page.limit, toEvent, (r) => String(r.id));
    },
  };
}

export type AlertsRepo = ReturnType<typeof alertsRepo>;
