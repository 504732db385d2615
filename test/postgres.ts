import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import pg from 'pg';
import { freePort, waitFor } from './ports.ts';

export interface TestPostgres {
  /** Superuser URL of the `postgres` database (trust auth, TCP on 127.0.0.1). */
  url: string;
  port: number;
  pid: number | undefined;
  /** A new, empty database; returns its URL. */
  createDatabase(): Promise<string>;
  /** Fast shutdown (SIGINT to the postmaster, by PID), then removes the data and socket directories. */
  stop(): Promise<void>;
}

const SUPERUSER = 'hazardwatch';

const executable = (path: string) => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The directory holding both `initdb` and `postgres`: $HW_TEST_PG_BIN, then the one the
 * `postgres` on PATH really lives in, then Debian's /usr/lib/postgresql/<version>/bin,
 * newest version first (Debian keeps initdb and postgres off PATH).
 */
export function findPostgresBin(): string {
  const candidates: string[] = [];
  if (process.env.HW_TEST_PG_BIN) candidates.push(process.env.HW_TEST_PG_BIN);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && executable(join(dir, 'postgres'))) candidates.push(dirname(realpathSync(join(dir, 'postgres'))), dir);
  }
  try {
    const versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // no Debian postgresql package
  }
  const found = candidates.find((d) => executable(join(d, 'initdb')) && executable(join(d, 'postgres')));
  if (!found) throw new Error('PostgreSQL not found (initdb and postgres): install Debian\'s postgresql or set HW_TEST_PG_BIN');
  return found;
}

/** uid and gid of a local user, from /etc/passwd. */
function userIds(name: string): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
}

function run(cmd: string, args: string[], opts: SpawnOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.stderr?.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited with ${code}: ${out}`))));
  });
}

/**
 * A real PostgreSQL in a temp directory on a free port: initdb, then the postmaster
 * listening on 127.0.0.1 and a socket in its own temp directory. initdb refuses to run
 * as root, so under root both run as the `postgres` user Debian's package creates
 * (spawned with its uid, so the PID we hold is the postmaster's own).
 */
export async function startPostgres(): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const ids = process.getuid?.() === 0 ? userIds(process.env.HW_TEST_PG_USER ?? 'postgres') ?? userIds('nobody') : undefined;
  if (process.getuid?.() === 0 && !ids) throw new Error('running as root and no postgres or nobody user to run PostgreSQL as');
  const dataDir = mkdtempSync(join(tmpdir(), 'hw-pg-data-'));
  const socketDir = mkdtempSync(join(tmpdir(), 'hw-pg-sock-'));
  if (ids) for (const d of [dataDir, socketDir]) chownSync(d, ids.uid, ids.gid);
  const asUser: SpawnOptions = ids ? { uid: ids.uid, gid: ids.gid, env: { ...process.env, HOME: dataDir } } : {};
  const cleanup = () => [dataDir, socketDir].forEach((d) => rmSync(d, { recursive: true, force: true }));

  let child: ChildProcess | undefined;
  try {
    // Test-only speed: no fsync (a crashed test cluster is thrown away anyway).
    await run(join(bin, 'initdb'), ['-D', dataDir, '-U', SUPERUSER, '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], asUser);
    const port = await freePort();
    let stderr = '';
    child = spawn(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-k', socketDir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'], { ...asUser, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const running = child;
    const exited = new Promise<never>((_, reject) => running.once('exit', (code) => reject(new Error(`postgres exited with ${code}: ${stderr}`))));
    exited.catch(() => {});
    const url = `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`;
    const query = async (text: string) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(text);
      } finally {
        await c.end();
      }
    };
    await Promise.race([waitFor(async () => (await query('SELECT 1'), true), { timeoutMs: 30_000, what: `postgres on port ${port}` }), exited]);

    let n = 0;
    return {
      url,
      port,
      pid: running.pid,
      async createDatabase() {
        const name = `hw_test_${++n}`;
        await query(`CREATE DATABASE ${name}`);
        return `postgres://${SUPERUSER}@127.0.0.1:${port}/${name}`;
      },
      async stop() {
        if (running.exitCode === null && running.signalCode === null) {
          const gone = new Promise((r) => running.once('exit', r));
          // SIGINT is PostgreSQL's fast shutdown: it ends client sessions instead of waiting for them.
          running.kill('SIGINT');
          await gone;
        }
        cleanup();
      },
    };
  } catch (err) {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    cleanup();
    throw err;
  }
}
