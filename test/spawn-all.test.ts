import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { spawnHw } from './spawn-all.ts';

describe('test harness: spawnHw', () => {
  it('stop() returns at once for a process already killed by a signal (exitCode null, signalCode set) and removes its data dir', async () => {
    const p = await spawnHw(['all'], {});
    const exited = once(p.child, 'exit');
    p.child.kill('SIGKILL');
    await exited;
    expect(p.child.exitCode).toBeNull();
    expect(p.child.signalCode).toBe('SIGKILL');
    const result = await Promise.race([p.stop(), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000).unref())]);
    expect(result).toBeNull();
    expect(existsSync(p.dataDir)).toBe(false);
  });

  it('stop() still stops a running process with SIGTERM and returns its exit code', async () => {
    const p = await spawnHw(['all'], {});
    expect(await p.stop()).toBe(0);
    expect(p.child.exitCode).toBe(0);
  });
});
