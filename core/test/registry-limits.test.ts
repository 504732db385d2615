import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { runExposureCli } from '../../cli/exposure.ts';
import { loadCatalogue } from '../src/agents.ts';
import { HwError } from '../src/errors.ts';
import { limitsInForce } from '../src/limits-in-force.ts';
import { buildRegistry, loadRegistryFile, type RegistryFile } from '../src/registry.ts';
import { generateRegistry } from '../../simulators/src/generate.ts';
import { tempDir } from '../../test/fixtures.ts';

/** Issue 12 item 5: a sensor whose agent has no limit in its enterprise's profile is refused at load. */
const ROOT = new URL('../..', import.meta.url).pathname;
const catalogue = loadCatalogue();
const demoFile = () => parseYaml(readFileSync(join(ROOT, 'examples/registry.yaml'), 'utf8')) as RegistryFile;

const refusal = (file: unknown): HwError => {
  try {
    buildRegistry(file, catalogue, 'test-registry');
  } catch (err) {
    return err as HwError;
  }
  throw new Error('the registry was accepted');
};

describe('a sensor with no limit is an error, not silence', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('refuses radon under OSHA, naming the sensor, the agent and the profile', () => {
    const file = demoFile();
    const coal = file.enterprises.find((e) => e.id === 'coal-liuxin')!;
    coal.profile = 'OSHA'; // OSHA's PELs have no radon limit (29 CFR 1910 lists none for workplace radon)
    const err = refusal(file);
    expect(err).toBeInstanceOf(HwError);
    expect(err.code).toBe('HW_ERR_REGISTRY');
    expect(err.message).toContain('sensor coal-liuxin.radon-1 of enterprise coal-liuxin: agent radon has no limit in profile OSHA');
    // Every such sensor of that enterprise is named at once (coal dust has no OSHA entry here either).
    expect(err.message).toContain('sensor coal-liuxin.dust-resp-1 of enterprise coal-liuxin: agent dust.coal.respirable has no limit in profile OSHA');
    // Sensors with an OSHA limit are not named.
    expect(err.message).not.toContain('coal-liuxin.co-1');
    expect(err.message).not.toContain('coal-liuxin.noise-1');
  });

  it('refuses a profile entry that holds nothing for the agent kind (noise with only a ceiling), and a reloaded file alike', () => {
    const noiseNoLex = { ...catalogue, limits: (p: string, a: string) => (a === 'noise' ? { mac: { value: 115, status: 'V' as const, source: 'x' } } : catalogue.limits(p, a)) };
    let err: HwError | undefined;
    try {
      buildRegistry(demoFile(), noiseNoLex, 'test-registry');
    } catch (e) {
      err = e as HwError;
    }
    expect(err?.code).toBe('HW_ERR_REGISTRY');
    expect(err?.message).toContain('sensor cement-liguo.noise-1 of enterprise cement-liguo: agent noise has no limit in profile GBZ2.1-2019');
    expect(err?.message).toContain('its entry lacks an 8-h level (lex8h)');
  });

  it('names at most 50 refused sensors and counts the rest (a hostile file cannot make the message unbounded)', () => {
    const file = demoFile();
    const coal = file.enterprises.find((e) => e.id === 'coal-liuxin')!;
    coal.profile = 'OSHA';
    const radon = coal.gateways[0]!.sensors.find((s) => s.agent === 'radon')!;
    coal.gateways[0]!.sensors.push(...Array.from({ length: 5000 }, (_, i) => ({ ...radon, id: `coal-liuxin.radon-x${i}` })));
    const err = refusal(file);
    expect(err.code).toBe('HW_ERR_REGISTRY');
    expect(err.message.split('\n').filter((l) => l.includes('has no limit in profile OSHA'))).toHaveLength(50);
    // 5,000 added radon sensors + radon-1 and the two coal-dust sensors (no OSHA entry) = 5,003.
    expect(err.message).toMatch(/… and 4953 more$/);
    expect(err.message.length).toBeLessThan(20_000);
  });

  it('the demo registry, and registries the simulator generates for every industry, load (every agent has a GBZ limit)', async () => {
    expect(loadRegistryFile(join(ROOT, 'examples/registry.yaml'), catalogue).sensors.size).toBeGreaterThan(20);
    const dir = tempDir('hw-gen-');
    dirs.push(dir);
    const out = await generateRegistry({ gateways: 12, sensors: 8, outDir: dir });
    const agents = new Set([...loadRegistryFile(out.registry, catalogue).sensors.values()].map((s) => s.agent));
    expect(agents.has('radon')).toBe(true);
    for (const a of catalogue.agents.values()) expect(limitsInForce(catalogue, 'GBZ2.1-2019', a), a.key).toBeDefined();
  });

  it('the exposure CLI uses the same lookup and says why', () => {
    const r = runExposureCli(['--profile', 'OSHA', '--agent', 'radon'], '2026-11-23T08:00:00Z,2026-11-23T09:00:00Z,500\n', catalogue);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('agent radon has no limit in profile OSHA');
  });
});
