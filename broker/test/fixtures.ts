import { loadCatalogue } from '../../core/src/agents.ts';
import { hashSecret } from '../../core/src/password.ts';
import { buildRegistry, RegistryHolder, type RegistryFile } from '../../core/src/registry.ts';

/** A small registry: enterprises a and b, gateways g1 and g2 each, secret "<e>-<g>-secret". */
export async function smallRegistry(): Promise<{ holder: RegistryHolder; file: RegistryFile; gateways: [string, string][] }> {
  const gateways: [string, string][] = [['a', 'g1'], ['a', 'g2'], ['b', 'g1'], ['b', 'g2']];
  const hashes = await Promise.all(gateways.map(([e, g]) => hashSecret(`${e}-${g}-secret`)));
  const file = {
    jurisdictions: [{ id: 'c', name: 'c', level: 'city' }, { id: 'd', name: 'd', level: 'district', parent: 'c' }, { id: 't', name: 't', level: 'township', parent: 'd' }],
    enterprises: ['a', 'b'].map((e) => ({
      id: e, name: e, industry: 'foundry', township: 't',
      gateways: ['g1', 'g2'].map((g) => ({ id: g, secretHash: hashes[gateways.findIndex(([x, y]) => x === e && y === g)]!, sensors: [{ id: `${e}.${g}.noise`, agent: 'noise', workplace: 'w', unit: 'dB(A)', max: 140 }] })),
    })),
    users: [],
  } as unknown as RegistryFile;
  return { holder: new RegistryHolder(buildRegistry(file, loadCatalogue())), file, gateways };
}
