import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { createBroker } from '../../broker/src/broker.ts';
import { loadCatalogue } from '../../core/src/agents.ts';
import { silentLogger } from '../../core/src/logger.ts';
import { loadRegistryFile, RegistryHolder } from '../../core/src/registry.ts';
import { tempDir } from '../../test/fixtures.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const hw = (args: string[], input?: string | Buffer) => spawnSync(process.execPath, [join(ROOT, 'bin/hazardwatch.js'), ...args], { input, encoding: 'utf8', timeout: 30_000 });
const field = (out: string, name: string) => new RegExp(`^${name}: (\\S+)$`, 'm').exec(out)?.[1];

describe('hazardwatch secret', () => {
  const dir = tempDir('hw-secret-');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A broker whose registry gives cement-liguo/gw1 `hash`; resolves whether `secret` connects. */
  async function connects(hash: string, secret: string): Promise<boolean> {
    const yaml = readFileSync(join(ROOT, 'examples/registry.yaml'), 'utf8');
    const i = yaml.indexOf('  - id: cement-liguo');
    const j = yaml.indexOf('secretHash:', i);
    const end = yaml.indexOf('\n', j);
    const path = join(dir, `registry-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, `${yaml.slice(0, j)}secretHash: ${hash}${yaml.slice(end)}`);
    const catalogue = loadCatalogue();
    const broker = createBroker({ registry: new RegistryHolder(loadRegistryFile(path, catalogue)), logger: silentLogger() }, { host: '127.0.0.1', port: 0, maxPayloadBytes: 1 << 16, serviceUsername: 'svc', servicePassword: 'svc-secret' });
    await broker.start();
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${broker.port()}`, { username: 'cement-liguo/gw1', password: secret, reconnectPeriod: 0, connectTimeout: 5000 }).catch(() => undefined);
      await c?.endAsync();
      return c !== undefined;
    } finally {
      await broker.stop();
    }
  }

  it('makes a new 43-character secret each time and the hash the registry keeps: the broker lets the gateway in with it, and not with another', async () => {
    const a = hw(['secret']);
    const b = hw(['secret']);
    expect(a.status).toBe(0);
    const secret = field(a.stdout, 'secret')!;
    const hash = field(a.stdout, 'secretHash')!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(field(b.stdout, 'secret')).not.toBe(secret);
    expect(await connects(hash, secret)).toBe(true);
    expect(await connects(hash, field(b.stdout, 'secret')!)).toBe(false);
  });

  it('--stdin hashes the given secret byte for byte (one trailing newline dropped) and never prints it', async () => {
    const r = hw(['secret', '--stdin'], 'my-gateway-secret\n');
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('my-gateway-secret');
    const hash = field(r.stdout, 'secretHash')!;
    expect(await connects(hash, 'my-gateway-secret')).toBe(true);
    expect(await connects(hash, 'my-gateway-secret\n')).toBe(false);
  });

  it('refuses an empty secret, one with a NUL byte, one over 1,024 bytes and unknown arguments, with a code and exit 2', () => {
    for (const input of ['', '\n', Buffer.from('ab\0cd'), 'x'.repeat(1025)]) {
      const r = hw(['secret', '--stdin'], input);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain('HW_ERR_BAD_SECRET');
      expect(r.stdout).toBe('');
    }
    const u = hw(['secret', '--length', '9']);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('unknown arguments');
  });
});
