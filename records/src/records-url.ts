import { HwError } from '../../core/src/errors.ts';

export type RecordsEngine = 'sqlite' | 'postgres';

export type RecordsTarget =
  | { engine: 'sqlite'; path: string }
  | { engine: 'postgres'; connectionString: string };

/**
 * `sqlite:<path>` (a file, created if missing; `sqlite::memory:` for a throwaway one) or
 * `postgres://user@host:port/db` / `postgresql://…` (libpq URL, as `pg` reads it).
 */
export function parseRecordsUrl(url: string): RecordsTarget {
  if (url.startsWith('sqlite:')) {
    const path = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!path) throw new HwError('HW_ERR_CONFIG', 'records url sqlite: needs a path (sqlite:/var/lib/hazardwatch/records.db)');
    return { engine: 'sqlite', path };
  }
  if (/^postgres(ql)?:\/\//.test(url)) return { engine: 'postgres', connectionString: url };
  // The URL may carry a password: only its scheme goes into the message.
  throw new HwError('HW_ERR_CONFIG', `records url must start with sqlite: or postgres:// (got ${url.split(':')[0]}:…)`);
}
