import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { tempDir } from '../../test/fixtures.ts';
import { startPostgres, type TestPostgres } from '../../test/postgres.ts';
import { createRecords, type Records } from '../src/records.ts';

/** One engine of the contract: a fresh, empty database per call of `fresh()`. */
export interface Engine {
  name: 'sqlite' | 'postgres';
  /** A records store on a new empty database (not started); stopped after the file. */
  fresh(): Promise<Records>;
}

/**
 * SQLite (a temp file per database) and a real PostgreSQL (one server for the test file,
 * a new database per call), set up in beforeAll and torn down in afterAll.
 */
export function contractEngines(): Engine[] {
  const opened: Records[] = [];
  let dir = '';
  let pg: TestPostgres | undefined;
  let n = 0;
  beforeAll(async () => {
    dir = tempDir('hw-records-');
    pg = await startPostgres();
  });
  afterAll(async () => {
    await Promise.all(opened.map((r) => r.stop()));
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const keep = (r: Records) => (opened.push(r), r);
  return [
    { name: 'sqlite', fresh: async () => keep(createRecords({ url: `sqlite:${join(dir, `records-${++n}.db`)}` })) },
    { name: 'postgres', fresh: async () => keep(createRecords({ url: await pg!.createDatabase(), poolMax: 4 })) },
  ];
}
