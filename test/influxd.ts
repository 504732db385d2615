import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.ts';

export interface InfluxdHandle {
  url: string;
  dir: string;
  pid: number | undefined;
  /** Stop gracefully (SIGTERM) and keep the data directory. */
  stop(): Promise<void>;
  /** Start again on the same port and data directory (for outage drills). */
  restart(): Promise<void>;
  /** Stop and remove the data directory. */
  destroy(): Promise<void>;
}

/**
 * A real influxd (Debian's package, 1.6) in a temp directory on free ports.
 * Used by the test harness and the benchmark; never a fixed port.
 */
export async function startInfluxd(bin = process.env.HW_TEST_INFLUXD ?? 'influxd'): Promise<InfluxdHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-influxd-'));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(conf, `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[logging]
  level = "warn"
`);
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    stderr = '';
    child = spawn(bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const exited = new Promise<never>((_, reject) => child!.once('exit', (code) => reject(new Error(`influxd exited with ${code}: ${stderr}`))));
    exited.catch(() => {});
    await Promise.race([
      waitFor(async () => (await fetch(`${url}/ping`)).status === 204 || undefined, { timeoutMs: 30_000, what: `influxd at ${url}` }),
      exited,
    ]);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 10_000))]);
    if (c.exitCode === null) c.kill('SIGKILL');
  };
  await launch();
  return {
    url,
    dir,
    get pid() {
      return child?.pid;
    },
    stop,
    restart: launch,
    async destroy() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
