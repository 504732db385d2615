import type { EnterpriseDef } from '../../../core/src/registry.ts';
import { checkPage, toPage, type Page, type PageRequest } from '../page.ts';
import type { EnterpriseTable } from '../schema.ts';
import { inSubtree } from './jurisdictions.ts';
import { chunks, fromExcluded, inTransaction, present, type Db } from './write.ts';

export type Shift = EnterpriseDef['shifts'][number];

export interface EnterpriseRecord {
  id: string;
  name: string;
  nameEn?: string;
  /** 统一社会信用代码 (GB 32100-2015). */
  uscc?: string;
  address?: string;
  lat?: number;
  lon?: number;
  industry: string;
  /** Limit profile as written (absent = the catalogue's default). */
  profile?: string;
  jurisdictionId: string;
  timezone: string;
  shifts: Shift[];
  disabledAt?: number;
  createdAt: number;
  updatedAt: number;
}

export type EnterpriseInput = Omit<EnterpriseRecord, 'createdAt' | 'updatedAt'>;

/** Updated on conflict: everything but the id and created_at. */
const COLUMNS = ['name', 'name_en', 'uscc', 'address', 'lat', 'lon', 'industry', 'profile', 'jurisdiction_id', 'timezone', 'shifts_json', 'updated_at'] as const;

const toEnterprise = (r: EnterpriseTable): EnterpriseRecord => ({
  id: r.id,
  name: r.name,
  industry: r.industry,
  jurisdictionId: r.jurisdiction_id,
  timezone: r.timezone,
  shifts: JSON.parse(r.shifts_json) as Shift[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  ...present({ nameEn: r.name_en, uscc: r.uscc, address: r.address, lat: r.lat, lon: r.lon, profile: r.profile, disabledAt: r.disabled_at }),
});

const toRow = (e: EnterpriseInput, at: number): EnterpriseTable => ({
  id: e.id,
  name: e.name,
  name_en: e.nameEn ?? null,
  uscc: e.uscc ?? null,
  address: e.address ?? null,
  lat: e.lat ?? null,
  lon: e.lon ?? null,
  industry: e.industry,
  profile: e.profile ?? null,
  jurisdiction_id: e.jurisdictionId,
  timezone: e.timezone,
  shifts_json: JSON.stringify(e.shifts),
  disabled_at: e.disabledAt ?? null,
  created_at: at,
  updated_at: at,
});

export function enterprisesRepo(db: Db) {
  return {
    /** Inserts or updates (created_at kept on update), in one transaction. */
    async put(rows: readonly EnterpriseInput[], at: number): Promise<void> {
      await inTransaction(db, async (tx) => {
        for (const part of chunks(rows)) {
          await tx.insertInto('enterprises').values(part.map((e) => toRow(e, at)))
            .onConflict((oc) => oc.column('id').doUpdateSet(fromExcluded<EnterpriseTable>(COLUMNS)))
            .execute();
        }
      });
    },

    async get(id: string): Promise<EnterpriseRecord | undefined> {
      const row = await db.selectFrom('enterprises').selectAll().where('id', '=', id).executeTakeFirst();
      return row && toEnterprise(row);
    },

    /** By id; `within` keeps those anywhere under that jurisdiction. */
    async list(page: PageRequest, filter: { within?: string } = {}): Promise<Page<EnterpriseRecord>> {
      checkPage(page);
      let q = db.selectFrom('enterprises').selectAll().orderBy('id').limit(page.limit + 1);
      if (filter.within !== undefined) q = q.where(inSubtree('jurisdiction_id', filter.within));
      if (page.after !== undefined) q = q.where('id', '>', page.after);
      return toPage(await q.execute(), page.limit, toEnterprise, (r) => r.id);
    },

    /** Disables or enables the row at `at` (ms); false when there is no such row. */
    async setDisabled(id: string, disabled: boolean, at: number): Promise<boolean> {
      const r = await db.updateTable('enterprises').set({ disabled_at: disabled ? at : null, updated_at: at }).where('id', '=', id).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}

export type EnterprisesRepo = ReturnType<typeof enterprisesRepo>;
