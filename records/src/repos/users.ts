import { checkPage, toPage, type Page, type PageRequest } from '../page.ts';
import type { UserTable } from '../schema.ts';
import { chunks, fromExcluded, inTransaction, present, type Db } from './write.ts';

export interface UserRecord {
  username: string;
  name: string;
  /** city | district | township (regulators) or enterprise (a safety officer). */
  role: string;
  /** Exactly one: the jurisdiction a regulator oversees, or an officer's enterprise. */
  scope: { jurisdictionId: string } | { enterpriseId: string };
  /** `scrypt$…` (core/src/password.ts). */
  passwordHash: string;
  disabledAt?: number;
  createdAt: number;
  updatedAt: number;
}

export type UserInput = Omit<UserRecord, 'createdAt' | 'updatedAt'>;

const COLUMNS = ['name', 'role', 'scope_jurisdiction_id', 'scope_enterprise_id', 'password_hash', 'updated_at'] as const;

const toUser = (r: UserTable): UserRecord => ({
  username: r.username,
  name: r.name,
  role: r.role,
  scope: r.scope_enterprise_id !== null ? { enterpriseId: r.scope_enterprise_id } : { jurisdictionId: r.scope_jurisdiction_id ?? '' },
  passwordHash: r.password_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  ...present({ disabledAt: r.disabled_at }),
});

const toRow = (u: UserInput, at: number): UserTable => ({
  username: u.username,
  name: u.name,
  role: u.role,
  scope_jurisdiction_id: 'jurisdictionId' in u.scope ? u.scope.jurisdictionId : null,
  scope_enterprise_id: 'enterpriseId' in u.scope ? u.scope.enterpriseId : null,
  password_hash: u.passwordHash,
  disabled_at: u.disabledAt ?? null,
  created_at: at,
  updated_at: at,
});

export function usersRepo(db: Db) {
  return {
    async put(rows: readonly UserInput[], at: number): Promise<void> {
      await inTransaction(db, async (tx) => {
        for (const part of chunks(rows)) {
          await tx.insertInto('users').values(part.map((u) => toRow(u, at)))
            .onConflict((oc) => oc.column('username').doUpdateSet(fromExcluded<UserTable>(COLUMNS)))
            .execute();
        }
      });
    },

    async get(username: string): Promise<UserRecord | undefined> {
      const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
      return row && toUser(row);
    },

    async list(page: PageRequest): Promise<Page<UserRecord>> {
      checkPage(page);
      let q = db.selectFrom('users').selectAll().orderBy('username').limit(page.limit + 1);
      if (page.after !== undefined) q = q.where('username', '>', page.after);
      return toPage(await q.execute(), page.limit, toUser, (r) => r.username);
    },

    async setPasswordHash(username: string, passwordHash: string, at: number): Promise<boolean> {
      const r = await db.updateTable('users').set({ password_hash: passwordHash, updated_at: at }).where('username', '=', username).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },

    async setDisabled(username: string, disabled: boolean, at: number): Promise<boolean> {
      const r = await db.updateTable('users').set({ disabled_at: disabled ? at : null, updated_at: at }).where('username', '=', username).executeTakeFirst();
      return r.numUpdatedRows > 0n;
    },
  };
}

export type UsersRepo = ReturnType<typeof usersRepo>;
