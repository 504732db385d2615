import { sql, type SqlBool } from 'kysely';
import { HwError } from '../../../core/src/errors.ts';
import { checkPage, toPage, type Page, type PageRequest } from '../page.ts';
import type { JurisdictionTable } from '../schema.ts';
import { chunks, fromExcluded, inTransaction, present, type Db } from './write.ts';

/**
 * Deepest jurisdiction tree accepted (levels below the root). Nation → province → city →
 * county → township → village → grid is 6; 32 leaves room and bounds every walk, so a
 * cycle written behind our back cannot make a recursive query run forever.
 */
export const MAX_TREE_DEPTH = 32;

export interface JurisdictionRecord {
  id: string;
  parentId?: string;
  name: string;
  nameEn?: string;
  /** Free text: province, city, district, county, township, park, street grid, … */
  level: string;
  kpiTargetPct?: number;
  disabledAt?: number;
}

/** A node with its distance from the node asked about (0 = that node). */
export type JurisdictionAtDepth = JurisdictionRecord & { depth: number };

const COLUMNS = ['parent_id', 'name', 'name_en', 'level', 'kpi_target_pct'] as const;

export const toJurisdiction = (r: JurisdictionTable): JurisdictionRecord => ({
  id: r.id,
  name: r.name,
  level: r.level,
  ...present({ parentId: r.parent_id, nameEn: r.name_en, kpiTargetPct: r.kpi_target_pct, disabledAt: r.disabled_at }),
});

const toRow = (j: JurisdictionRecord): JurisdictionTable => ({
  id: j.id,
  parent_id: j.parentId ?? null,
  name: j.name,
  name_en: j.nameEn ?? null,
  level: j.level,
  kpi_target_pct: j.kpiTargetPct ?? null,
  disabled_at: j.disabledAt ?? null,
});

/** The ids of a node's subtree (itself at depth 0), as a CTE both engines run. */
const subtreeCte = (rootId: string) => sql`WITH RECURSIVE subtree(id, depth) AS (
    SELECT id, 0 FROM jurisdictions WHERE id = ${rootId}
    UNION ALL
    SELECT j.id, subtree.depth + 1 FROM jurisdictions j JOIN subtree ON j.parent_id = subtree.id
    WHERE subtree.depth < ${sql.lit(MAX_TREE_DEPTH)})`;

/** `column IN (the subtree of rootId)`: rows anywhere under a jurisdiction, at any depth. */
export const inSubtree = (column: string, rootId: string) => sql<SqlBool>`${sql.ref(column)} IN (${subtreeCte(rootId)} SELECT id FROM subtree)`;

export function jurisdictionsRepo(db: Db) {
  const repo = {
    /**
     * Inserts or updates, parents before children (the caller orders them). Refuses, and
     * writes nothing, when a row would make the tree loop or deeper than MAX_TREE_DEPTH.
     */
    async put(rows: readonly JurisdictionRecord[]): Promise<void> {
      await inTransaction(db, async (tx) => {
        for (const part of chunks(rows)) {
          await tx.insertInto('jurisdictions').values(part.map(toRow))
            .onConflict((oc) => oc.column('id').doUpdateSet(fromExcluded<JurisdictionTable>(COLUMNS)))
            .execute();
        }
        const r = jurisdictionsRepo(tx);
        for (const j of rows) {
          if (!j.parentId) continue;
          const chain = await r.ancestors(j.id);
          // The walk stops MAX_TREE_DEPTH levels up: a top that still has a parent is a loop or too deep.
          if (chain[chain.length - 1]?.parentId !== undefined) {
            throw new HwError('HW_ERR_BAD_REQUEST', `jurisdiction ${j.id}: parent ${j.parentId} would make the tree loop or deeper than ${MAX_TREE_DEPTH} levels`);
          }
        }
      });
    },

    async get(id: string): Promise<JurisdictionRecord | undefined> {
      const row = await db.selectFrom('jurisdictions').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toJurisdiction(row);
    },

    /** All jurisdictions by id. */
    async list(page: PageRequest): Promise<Page<JurisdictionRecord>> {
      checkPage(page);
      let q = db.selectFrom('jurisdictions').selectAll().orderBy('id').limit(page.limit + 1);
      if (page.after !== undefined) q = q.where('id', '>', page.after);
      return toPage(await q.execute(), page.limit, toJurisdiction, (r) => r.id);
    },

    /** The node and its ancestors up to the root, nearest first (as Registry.ancestors). */
    async ancestors(id: string): Promise<JurisdictionAtDepth[]> {
      const { rows } = await sql<JurisdictionTable & { depth: number }>`WITH RECURSIVE up(id, parent_id, depth) AS (
          SELECT id, parent_id, 0 FROM jurisdictions WHERE id = ${id}
          UNION ALL
          SELECT j.id, j.parent_id, up.depth + 1 FROM jurisdictions j JOIN up ON j.id = up.parent_id
          WHERE up.depth < ${sql.lit(MAX_TREE_DEPTH)})
        SELECT j.*, up.depth FROM up JOIN jurisdictions j ON j.id = up.id ORDER BY up.depth`.execute(db);
      return rows.map((r) => ({ ...toJurisdiction(r), depth: Number(r.depth) }));
    },

    /** The node and everything under it, at any depth, by id. */
    async subtree(id: string, page: PageRequest): Promise<Page<JurisdictionAtDepth>> {
      checkPage(page);
      const { rows } = await sql<JurisdictionTable & { depth: number }>`${subtreeCte(id)}
        SELECT j.*, subtree.depth FROM subtree JOIN jurisdictions j ON j.id = subtree.id
        ${page.after !== undefined ? sql`WHERE j.id > ${page.after}` : sql``}
        ORDER BY j.id LIMIT ${page.limit + 1}`.execute(db);
      return toPage(rows, page.limit, (r) => ({ ...toJurisdiction(r), depth: Number(r.depth) }), (r) => r.id);
    },

    /** Disables or enables the row at `at` (ms); false when there is no such row. */
    async setDisabled(id: string, disabled: boolean, at: number): Promise<boolean> {
      const r = await db.updateTable('jurisdictions').set({ disabled_at: disabled ? at : null }).where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
  return repo;
}

export type JurisdictionsRepo = ReturnType<typeof jurisdictionsRepo>;
