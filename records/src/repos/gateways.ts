import { sql } from 'kysely';
import { checkPage, pairCursor, parsePairCursor, toPage, type Page, type PageRequest } from '../page.ts';
import type { GatewayTable } from '../schema.ts';
import { chunks, fromExcluded, inTransaction, present, type Db } from './write.ts';

export interface GatewayRecord {
  id: string;
  enterpriseId: string;
  /** `scrypt$…` (core/src/password.ts). */
  secretHash: string;
  secretRotatedAt: number;
  disabledAt?: number;
  createdAt: number;
}

export type GatewayInput = Omit<GatewayRecord, 'secretRotatedAt' | 'createdAt'>;

const toGateway = (r: GatewayTable): GatewayRecord => ({
  id: r.id,
  enterpriseId: r.enterprise_id,
  secretHash: r.secret_hash,
  secretRotatedAt: r.secret_rotated_at,
  createdAt: r.created_at,
  ...present({ disabledAt: r.disabled_at }),
});

export function gatewaysRepo(db: Db) {
  return {
    /**
     * Inserts or updates. An update with a different secret hash is a rotation (its time
     * is recorded); disabling is setDisabled's alone, so a re-import never revives a
     * revoked gateway.
     */
    async put(rows: readonly GatewayInput[], at: number): Promise<void> {
      await inTransaction(db, async (tx) => {
        for (const part of chunks(rows)) {
          await tx.insertInto('gateways')
            .values(part.map((g) => ({ id: g.id, enterprise_id: g.enterpriseId, secret_hash: g.secretHash, secret_rotated_at: at, disabled_at: g.disabledAt ?? null, created_at: at })))
            .onConflict((oc) => oc.columns(['enterprise_id', 'id']).doUpdateSet({
              ...fromExcluded<GatewayTable>(['secret_hash']),
              secret_rotated_at: sql<number>`CASE WHEN gateways.secret_hash = excluded.secret_hash THEN gateways.secret_rotated_at ELSE excluded.secret_rotated_at END`,
            }))
            .execute();
        }
      });
    },

    async get(enterpriseId: string, id: string): Promise<GatewayRecord | undefined> {
      const row = await db.selectFrom('gateways').selectAll().where('enterprise_id', '=', enterpriseId).where('id', '=', id).executeTakeFirst();
      return row && toGateway(row);
    },

    /** By (enterprise, id); `enterpriseId` keeps one enterprise's. */
    async list(page: PageRequest, filter: { enterpriseId?: string } = {}): Promise<Page<GatewayRecord>> {
      checkPage(page);
      let q = db.selectFrom('gateways').selectAll().orderBy('enterprise_id').orderBy('id').limit(page.limit + 1);
      if (filter.enterpriseId !== undefined) q = q.where('enterprise_id', '=', filter.enterpriseId);
      if (page.after !== undefined) {
        const [e, g] = parsePairCursor(page.after);
        q = q.where((eb) => eb(eb.refTuple('enterprise_id', 'id'), '>', eb.tuple(e, g)));
      }
      return toPage(await q.execute(), page.limit, toGateway, (r) => pairCursor(r.enterprise_id, r.id));
    },

    /** A new secret hash in force from `at`; false when there is no such gateway. */
    async rotateSecret(enterpriseId: string, id: string, secretHash: string, at: number): Promise<boolean> {
      const r = await db.updateTable('gateways').set({ secret_hash: secretHash, secret_rotated_at: at })
        .where('enterprise_id', '=', enterpriseId).where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async setDisabled(enterpriseId: string, id: string, disabled: boolean, at: number): Promise<boolean> {
      const r = await db.updateTable('gateways').set({ disabled_at: disabled ? at : null })
        .where('enterprise_id', '=', enterpriseId).where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}

export type GatewaysRepo = ReturnType<typeof gatewaysRepo>;
