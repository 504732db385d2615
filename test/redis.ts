import { spawn, type ChildProcess } from 'node:child_process';
import { Redis, type RedisOptions as ClientOptions } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { freePort, waitFor } from './ports.ts';

export interface RedisOptions {
  /**
   * Append-only file on, with this fsync policy ('always': fsync before each write is
   * answered; 'everysec': once a second). Off by default: no persistence to disk.
   */
  aof?: 'always' | 'everysec';
}

export interface TestRedis {
  url: string;
  port: number;
  /** The running redis-server's process id (the benchmark reads its CPU time); changes on restart. */
  readonly pid: number | undefined;
  /** Sends a signal (SIGKILL for a crash) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts redis-server again on the same port and directory (after kill). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's redis-server on a free port in a temp directory. */
export async function startRedis(options: RedisOptions = {}): Promise<TestRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-redis-'));
  const port = await freePort();
  const persistence = options.aof ? ['--appendonly', 'yes', '--appendfsync', options.aof] : ['--appendonly', 'no'];
  let child: ChildProcess;

  async function launch(): Promise<void> {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', dir], { stdio: 'ignore' });
    await waitFor(() => new Promise<true | undefined>((resolve) => {
      const s = createConnection(port, '127.0.0.1', () => { s.end(); resolve(true); });
      s.on('error', () => resolve(undefined));
    }), { what: 'redis-server' });
  }

  async function kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await gone;
    }
  }

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    get pid() {
      return child.pid;
    },
    kill,
    restart: launch,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A test redis-server and one ioredis client connected to it. */
export interface RedisWithClient {
  server: TestRedis;
  redis: Redis;
}

/** startRedis, then a client on it (`client` for its reconnect policy and the like). */
export async function startRedisWithClient(options: RedisOptions = {}, client: ClientOptions = {}): Promise<RedisWithClient> {
  const server = await startRedis(options);
  return { server, redis: new Redis(server.url, client) };
}

/** Disconnects the client and stops the server (removing its directory). */
export async function stopRedisWithClient(r: RedisWithClient): Promise<void> {
  r.redis.disconnect();
  await r.server.stop();
}
