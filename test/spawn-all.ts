import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SpawnedHw {
  child: ChildProcess;
  /** The fields of the process's "ready" log line (ports, service, …). */
  ready: Record<string, unknown>;
  dataDir: string;
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface SpawnedAll extends SpawnedHw {
  mqttPort: number;
  httpPort: number;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Start a real `hazardwatch <args>` process on free ports and wait for its ready line. */
export function spawnHw(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<SpawnedHw> {
  return startHw(args, env, nodeArgs).spawned;
}

/**
 * The same, without waiting: the child and its log lines at once (a test watching a process
 * that is not ready yet), and `spawned` once it is.
 */
export function startHw(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = []): { child: ChildProcess; logs: string[]; spawned: Promise<SpawnedHw> } {
  const dataDir = env.HW_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'hw-proc-'));
  // What users run: `npm start` gives the all-in-one the bin script's V8 flag (a larger young
  // generation for its ingest path); docker-compose.yml runs each split service with Node's defaults.
  const v8Flags = args[0] === 'all' ? ['--max-semi-space-size=32'] : [];
  const child = spawn(process.execPath, [...v8Flags, ...nodeArgs, join(ROOT, 'bin/hazardwatch.js'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HW_MQTT_PORT: '0', HW_HTTP_PORT: '0', HW_MQTT_HOST: '127.0.0.1', HW_HTTP_HOST: '127.0.0.1', HW_DATA_DIR: dataDir, HW_SIMULATE_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      logs.push(line);
      if (logs.length > 5000) logs.shift();
      try {
        const j = JSON.parse(line) as Record<string, unknown>;
        if (j.msg === 'ready') resolve(j);
      } catch {
        /* not JSON */
      }
    });
    child.once('exit', (code) => reject(new Error(`hazardwatch ${args.join(' ')} exited with ${code} before ready:\n${stderr}\n${logs.join('\n')}`)));
    setTimeout(() => reject(new Error(`hazardwatch ${args.join(' ')} not ready after 60 s:\n${stderr}`)), 60_000).unref();
  });
  const spawned = ready.then((fields): SpawnedHw => ({
    child, ready: fields, dataDir, logs,
    async stop(signal = 'SIGTERM') {
      // A child that already ended has an exit code, or (killed by a signal) exitCode null
      // and signalCode set: waiting for an 'exit' event then would wait forever.
      const ended = child.exitCode !== null || child.signalCode !== null;
      const code = ended
        ? child.exitCode
        : await new Promise<number | null>((r) => {
          child.once('exit', (c) => r(c));
          child.kill(signal);
        });
      if (!env.HW_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  }), (err: Error) => {
    // Never leave a half-started process behind.
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  });
  return { child, logs, spawned };
}

/** Start the real all-in-one (`hazardwatch all`) as a child process on free ports. */
export async function spawnAll(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<SpawnedAll> {
  const p = await spawnHw(['all'], env, nodeArgs);
  return { ...p, mqttPort: p.ready.mqttPort as number, httpPort: p.ready.httpPort as number };
}
