import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { hashSecret } from '../../core/src/password.ts';
import type { RegistryFile } from '../../core/src/registry.ts';
import { connectGateway, login } from '../clients.ts';
import { tempDir } from '../fixtures.ts';
import { waitFor } from '../ports.ts';
import { spawnHw, type SpawnedHw } from '../spawn-all.ts';
import { startServices, type RunningServices } from '../topologies.ts';
import { topics } from '../../core/src/topics.ts';

/**
 * SIGHUP with a bad registry file never stops a service (issues 12, 13): the all-in-one
 * and every split service keep the registry in force and log why; a good file is then
 * picked up. Real processes, real MQTT clients, a real redis-server and influxd.
 */
const ROOT = new URL('../..', import.meta.url).pathname;
const GW2_SECRET = 'gw2-reload-test-secret';

/** The demo registry with cement-liguo's gateway gw1 replaced by gw2 (same sensors). */
async function rekeyed(): Promise<RegistryFile> {
  const file = parseYaml(readFileSync(join(ROOT, 'examples/registry.yaml'), 'utf8')) as RegistryFile;
  const cement = file.enterprises.find((e) => e.id === 'cement-liguo')!;
  cement.gateways = [{ ...cement.gateways[0]!, id: 'gw2', secretHash: await hashSecret(GW2_SECRET) }];
  return file;
}

const refusedCode = (p: Promise<unknown>) => p.then(
  (c) => {
    void (c as { endAsync(): Promise<void> }).endAsync();
    return 0;
  },
  (e: Error & { code?: number }) => e.code ?? -1,
);

describe.each([
  { name: 'all-in-one', args: ['all'] },
])('registry reload on SIGHUP: $name', ({ args }) => {
  const dir = tempDir('hw-reload-');
  const registryPath = join(dir, 'registry.yaml');
  let hw: SpawnedHw | undefined;
  afterAll(async () => {
    expect(await hw?.stop()).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the registry in force and logs the reason when the new file is refused, then picks up a good one', async () => {
    copyFileSync(join(ROOT, 'examples/registry.yaml'), registryPath);
    hw = await spawnHw(args, { HW_REGISTRY: registryPath, HW_SERVICE_PASSWORD: 'svc-reload-secret' });
    const mqttPort = hw.ready.mqttPort as number;
    const child = hw.child;
    const refusals = () => hw!.logs.filter((l) => l.includes('registry reload refused')).length;
    const live = await connectGateway(mqttPort, 'cement-liguo');

    // 1. Not YAML at all.
    writeFileSync(registryPath, 'enterprises: [ {{{ not yaml');
    child.kill('SIGHUP');
    await waitFor(() => refusals() === 1 || undefined, { what: 'the first refusal in the log' });
    // 2. Valid YAML, but refused by validation: the re-keyed registry plus a sensor with no
    //    limit in its profile (coal-liuxin under OSHA has radon).
    const bad = await rekeyed();
    bad.enterprises.find((e) => e.id === 'coal-liuxin')!.profile = 'OSHA';
    writeFileSync(registryPath, stringify(bad, { lineWidth: 0 }));
    child.kill('SIGHUP');
    await waitFor(() => refusals() === 2 || undefined, { what: 'the second refusal in the log' });
    const line = JSON.parse(hw.logs.filter((l) => l.includes('registry reload refused')).at(-1)!) as { code: string; err: string };
    expect(line.code).toBe('HW_ERR_REGISTRY');
    expect(line.err).toContain('sensor coal-liuxin.radon-1 of enterprise coal-liuxin: agent radon has no limit in profile OSHA');

    // Still up, still serving with the old registry: gw1 stays connected and may connect
    // anew; gw2 (only in the refused file) is not known.
    await new Promise((r) => setTimeout(r, 200));
    expect(child.exitCode).toBeNull();
    expect(child.signalCode).toBeNull();
    expect(live.connected).toBe(true);
    expect(await refusedCode(connectGateway(mqttPort, 'cement-liguo'))).toBe(0);
    expect(await refusedCode(connectGateway(mqttPort, 'cement-liguo', 'gw2', GW2_SECRET))).toBe(4);
    if (args[0] === 'all') expect((await fetch(`http://127.0.0.1:${hw.ready.httpPort as number}/api/health`)).status).toBe(200);

    // 3. A good file is picked up: gw2 connects, gw1 is revoked (its session closed at once).
    const closed = new Promise<void>((r) => live.once('close', () => r()));
    writeFileSync(registryPath, stringify(await rekeyed(), { lineWidth: 0 }));
    child.kill('SIGHUP');
    await waitFor(() => hw!.logs.some((l) => l.includes('"registry reloaded"')) || undefined, { what: 'the reload in the log' });
    await closed;
    expect(await refusedCode(connectGateway(mqttPort, 'cement-liguo', 'gw2', GW2_SECRET))).toBe(0);
    expect(await refusedCode(connectGateway(mqttPort, 'cement-liguo'))).toBe(4);
    expect(child.exitCode).toBeNull();
    await live.endAsync(true).catch(() => {});
  });
});

describe('registry reload on SIGHUP: every split service (broker, 2 ingest, 2 rules, api)', () => {
  const dir = tempDir('hw-reload-svc-');
  const registryPath = join(dir, 'registry.yaml');
  let topo: RunningServices | undefined;
  afterAll(async () => {
    const codes = await topo?.stop();
    expect(codes?.every((c) => c === 0)).toBe(true);
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every service serving with the old registry when the file is refused, then all pick up a good one', async () => {
    copyFileSync(join(ROOT, 'examples/registry.yaml'), registryPath);
    topo = await startServices({ influxUrl: inject('influxUrl'), database: `reload_svc_${Date.now()}`, env: { HW_REGISTRY: registryPath } });
    const p = topo.processes;
    const every = () => [p.broker, ...p.ingest, ...p.rules, ...p.api];
    const count = (proc: SpawnedHw, what: string) => proc.logs.filter((l) => l.includes(what)).length;
    const live = await connectGateway(topo.mqttPort, 'cement-liguo');

    const bad = await rekeyed();
    bad.enterprises.find((e) => e.id === 'coal-liuxin')!.profile = 'OSHA';
    writeFileSync(registryPath, stringify(bad, { lineWidth: 0 }));
    for (const proc of every()) proc.child.kill('SIGHUP');
    await waitFor(() => every().every((proc) => count(proc, 'registry reload refused') === 1) || undefined, { what: 'a refusal in the log of every service' });
    for (const proc of every()) {
      expect(proc.child.exitCode).toBeNull();
      expect(proc.child.signalCode).toBeNull();
    }
    // The pipeline still runs end to end on the old registry: a reading is stored and its alert reaches the API.
    const token = await login(topo.httpPort, 'city');
    const t = Date.now();
    await live.publishAsync(topics.up('cement-liguo', 'gw1'), JSON.stringify({ readings: [{ sensor: 'cement-liguo.dust-resp-1', ts: t, value: 40, unit: 'mg/m3' }] }), { qos: 1 });
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${topo!.httpPort}/api/alerts`, { headers: { authorization: `Bearer ${token}` } });
      const alerts = (await res.json()) as { sensorId: string }[];
      return alerts.some((a) => a.sensorId === 'cement-liguo.dust-resp-1') || undefined;
    }, { what: 'the alert of a reading sent after the refused reload' });
    expect(await refusedCode(connectGateway(topo.mqttPort, 'cement-liguo', 'gw2', GW2_SECRET))).toBe(4);

    writeFileSync(registryPath, stringify(await rekeyed(), { lineWidth: 0 }));
    for (const proc of every()) proc.child.kill('SIGHUP');
    await waitFor(() => every().every((proc) => count(proc, '"registry reloaded"') === 1) || undefined, { what: 'the reload in the log of every service' });
    expect(await refusedCode(connectGateway(topo.mqttPort, 'cement-liguo', 'gw2', GW2_SECRET))).toBe(0);
    await live.endAsync(true).catch(() => {});
  });
});
