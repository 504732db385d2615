import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SpawnedAll {
  child: ChildProcess;
  mqttPort: number;
  httpPort: number;
  dataDir: string;
  logs: string[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Start the real all-in-one (`hazardwatch all`) as a child process on free ports. */
export async function spawnAll(env: Record<string, string> = {}, nodeArgs: string[] = []): Promise<SpawnedAll> {
  const dataDir = env.HW_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'hw-all-'));
  const child = spawn(process.execPath, [...nodeArgs, join(ROOT, 'bin/hazardwatch.js'), 'all'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, HW_MQTT_PORT: '0', HW_HTTP_PORT: '0', HW_MQTT_HOST: '127.0.0.1', HW_HTTP_HOST: '127.0.0.1', HW_DATA_DIR: dataDir, HW_SIMULATE_ENABLED: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const ready = new Promise<{ mqttPort: number; httpPort: number }>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.on('line', (line) => {
      logs.push(line);
      if (logs.length > 5000) logs.shift();
      try {
        const j = JSON.parse(line) as { msg?: string; mqttPort?: number; httpPort?: number };
        if (j.msg === 'ready' && j.mqttPort && j.httpPort) resolve({ mqttPort: j.mqttPort, httpPort: j.httpPort });
      } catch {
        /* not JSON */
      }
    });
    child.once('exit', (code) => reject(new Error(`hazardwatch exited with ${code} before ready:\n${stderr}\n${logs.join('\n')}`)));
    setTimeout(() => reject(new Error(`hazardwatch not ready after 60 s:\n${stderr}`)), 60_000).unref();
  });
  const { mqttPort, httpPort } = await ready.catch((err: Error) => {
    // Never leave a half-started process behind.
    if (child.exitCode === null) child.kill('SIGKILL');
    throw err;
  });
  return {
    child, mqttPort, httpPort, dataDir, logs,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill(signal);
      const code = await exited;
      if (!env.HW_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
  };
}
