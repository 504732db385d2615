import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/src/logger.ts';
import { tempDir } from '../../test/fixtures.ts';
import { createSpool } from '../src/spool.ts';

const config = (dir: string) => ({ dir, segmentMaxReadings: 100, segmentMaxMs: 1000, fsyncIntervalMs: 100, maxBytes: 1 << 20 });

describe('spool lock: one process per spool directory', () => {
  const dir = tempDir('hw-spool-lock-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a spool another live process holds, naming it; takes over the lock of a dead one; frees it on close', async () => {
    const spoolDir = join(dir, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    // Another ingest worker, alive: its pid is in the lock.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
    await once(other, 'spawn');
    writeFileSync(join(spoolDir, 'LOCK'), String(other.pid));
    expect(() => createSpool(config(spoolDir), silentLogger())).toThrow(expect.objectContaining({ code: 'HW_ERR_CONFIG', message: expect.stringContaining(`in use by process ${other.pid}`) }));
    // It dies (kill -9): its lock is stale and the next worker takes the spool.
    other.kill('SIGKILL');
    await once(other, 'exit');
    const spool = createSpool(config(spoolDir), silentLogger());
    spool.close();
    expect(existsSync(join(spoolDir, 'LOCK'))).toBe(false);
  });
});
