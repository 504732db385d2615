import type { Catalogue } from '../../core/src/agents.ts';
import { buildRegistry, gatewayKey, type Registry, type RegistryFile } from '../../core/src/registry.ts';
import { MAX_PAGE_SIZE, type Page, type PageRequest } from './page.ts';
import type { Records } from './records.ts';

/** Every row of a paginated list, page by page (the registry is held in memory whole anyway). */
async function all<T>(list: (p: PageRequest) => Promise<Page<T>>): Promise<T[]> {
  const out: T[] = [];
  let after: string | undefined;
  do {
    const page = await list(after === undefined ? { limit: MAX_PAGE_SIZE } : { limit: MAX_PAGE_SIZE, after });
    out.push(...page.items);
    after = page.next;
  } while (after !== undefined);
  return out;
}

type FileJurisdiction = RegistryFile['jurisdictions'][number];

/**
 * The Registry the services use, built from the records: the same object buildRegistry
 * makes from a file (it is built by buildRegistry, so the same rules are checked). Rows
 * in force only: a disabled jurisdiction takes its subtree and their enterprises with it,
 * a disabled enterprise its gateways, sensors and officers, a disabled gateway its sensors.
 * Lists are in id order.
 */
export async function loadRegistry(records: Records, catalogue: Catalogue): Promise<Registry> {
  // One snapshot: a gateway added between reading gateways and sensors must not lose its sensors.
  const [jRows, eRows, gRows, sRows, uRows, grading] = await records.snapshot(async (tx) => [
    await all((p) => tx.jurisdictions.list(p)),
    await all((p) => tx.enterprises.list(p)),
    await all((p) => tx.gateways.list(p)),
    await all((p) => tx.sensors.list(p)),
    await all((p) => tx.users.list(p)),
    await tx.settings.get('grading'),
  ] as const);

  const byId = new Map(jRows.map((j) => [j.id, j]));
  const inForce = new Map<string, boolean>();
  const jurisdictionInForce = (id: string): boolean => {
    const known = inForce.get(id);
    if (known !== undefined) return known;
    inForce.set(id, false); // a loop written behind our back ends here, out of force
    const j = byId.get(id);
    const ok = !!j && j.disabledAt === undefined && (j.parentId === undefined || jurisdictionInForce(j.parentId));
    inForce.set(id, ok);
    return ok;
  };
  const jurisdictions: FileJurisdiction[] = jRows.filter((j) => jurisdictionInForce(j.id)).map((j) => ({
    id: j.id, name: j.name,
    // The file format knows three levels; a label it does not know is refused by buildRegistry, with the row named.
    level: j.level as FileJurisdiction['level'],
    ...(j.nameEn !== undefined && { nameEn: j.nameEn }),
    ...(j.parentId !== undefined && { parent: j.parentId }),
    ...(j.kpiTargetPct !== undefined && { kpiTargetPct: j.kpiTargetPct }),
  }));

  const enterprises = eRows.filter((e) => e.disabledAt === undefined && jurisdictionInForce(e.jurisdictionId));
  const liveEnterprises = new Set(enterprises.map((e) => e.id));
  const gateways = gRows.filter((g) => g.disabledAt === undefined && liveEnterprises.has(g.enterpriseId));
  const sensorsByGateway = new Map<string, RegistryFile['enterprises'][number]['gateways'][number]['sensors']>(gateways.map((g) => [gatewayKey(g.enterpriseId, g.id), []]));
  for (const s of sRows) {
    if (s.disabledAt !== undefined) continue;
    sensorsByGateway.get(gatewayKey(s.enterpriseId, s.gatewayId))?.push({ id: s.id, agent: s.agent, workplace: s.workplace, unit: s.unit, intervalS: s.intervalS, min: s.min, max: s.max, labour: s.labour });
  }
  const gatewaysByEnterprise = new Map<string, RegistryFile['enterprises'][number]['gateways']>(enterprises.map((e) => [e.id, []]));
  for (const g of gateways) gatewaysByEnterprise.get(g.enterpriseId)!.push({ id: g.id, secretHash: g.secretHash, sensors: sensorsByGateway.get(gatewayKey(g.enterpriseId, g.id))! });

  const file: RegistryFile = {
    jurisdictions,
    enterprises: enterprises.map((e) => ({
      id: e.id, name: e.name, industry: e.industry, township: e.jurisdictionId, timezone: e.timezone, shifts: e.shifts,
      gateways: gatewaysByEnterprise.get(e.id)!,
      ...(e.nameEn !== undefined && { nameEn: e.nameEn }),
      ...(e.profile !== undefined && { profile: e.profile }),
    })),
    users: uRows
      .filter((u) => u.disabledAt === undefined && ('enterpriseId' in u.scope ? liveEnterprises.has(u.scope.enterpriseId) : jurisdictionInForce(u.scope.jurisdictionId)))
      .map((u) => ({
        username: u.username, name: u.name, passwordHash: u.passwordHash,
        role: u.role as RegistryFile['users'][number]['role'],
        scope: 'enterpriseId' in u.scope ? u.scope.enterpriseId : u.scope.jurisdictionId,
      })),
    ...(grading !== undefined && { grading: grading as NonNullable<RegistryFile['grading']> }),
  };
  return buildRegistry(file, catalogue, `records (${records.engine})`);
}
