import type { Db } from './write.ts';

/** Registry-wide settings, one text value per key. */
export function settingsRepo(db: Db) {
  return {
    async get(key: string): Promise<string | undefined> {
      return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
    },
    /** Sets the value, or removes the key when it is undefined. */
    async set(key: string, value: string | undefined): Promise<void> {
      if (value === undefined) await db.deleteFrom('settings').where('key', '=', key).execute();
      else await db.insertInto('settings').values({ key, value }).onConflict((oc) => oc.column('key').doUpdateSet({ value })).execute();
    },
  };
}

export type SettingsRepo = ReturnType<typeof settingsRepo>;
