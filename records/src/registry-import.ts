import type { Catalogue } from '../../core/src/agents.ts';
import { HwError } from '../../core/src/errors.ts';
import { checkRegistry, type RegistryFile, type RegistryProblem } from '../../core/src/registry.ts';
import type { Records } from './records.ts';
import type { JurisdictionRecord } from './repos/jurisdictions.ts';

/** One bad row of an import. */
export interface ImportProblem {
  /** JSON pointer of the row in the file: `/enterprises/1/gateways/0/sensors/2`; `` for the file as a whole. */
  row: string;
  /** What the row is. */
  table: 'jurisdictions' | 'enterprises' | 'gateways' | 'sensors' | 'users' | 'file';
  /** Its position in its list (0-based); -1 for the file. */
  index: number;
  /** The field at fault, when one is. */
  field?: string;
  reason: string;
}

/** Problems an import error carries at most (the count of all is kept): a hostile file cannot make the answer unbounded. */
export const MAX_IMPORT_PROBLEMS = 1000;

/** HW_ERR_IMPORT_REFUSED with every bad row (up to MAX_IMPORT_PROBLEMS); nothing was written. */
export class ImportRefused extends HwError {
  constructor(readonly problems: readonly ImportProblem[], readonly total: number) {
    super('HW_ERR_IMPORT_REFUSED', `${total} problem${total === 1 ? '' : 's'}; first: ${problems[0] ? `${problems[0].row || '/'} ${problems[0].field ?? ''}: ${problems[0].reason}` : 'none'}`);
  }
}

export interface ImportSummary {
  jurisdictions: number;
  enterprises: number;
  gateways: number;
  sensors: number;
  users: number;
}

export interface ImportOptions {
  /** When, ms (created/updated times and the audit entry); default now. */
  at?: number;
  /** Who imports and from where, for the audit log; default `system`, ''. */
  actor?: string;
  address?: string;
}

function toImportProblem(p: RegistryProblem): ImportProblem {
  const m = /\/(jurisdictions|enterprises|gateways|sensors|users)\/(\d+)$/.exec(p.row);
  const base = { row: p.row, table: (m?.[1] ?? 'file') as ImportProblem['table'], index: m ? Number(m[2]) : -1, reason: p.message };
  return p.field ? { ...base, field: p.field } : base;
}

/** Parents before children, so each row's parent is already written when it is. */
function parentsFirst(js: RegistryFile['jurisdictions']): RegistryFile['jurisdictions'] {
  const byId = new Map(js.map((j) => [j.id, j]));
  const out: RegistryFile['jurisdictions'] = [];
  const placed = new Set<string>();
  const place = (j: RegistryFile['jurisdictions'][number]) => {
    // checkRegistry refused loops, so this walk ends; the chain is placed top-down.
    const chain = [];
    for (let c: typeof j | undefined = j; c && !placed.has(c.id); c = c.parent ? byId.get(c.parent) : undefined) chain.push(c);
    for (const c of chain.reverse()) {
      placed.add(c.id);
      out.push(c);
    }
  };
  js.forEach(place);
  return out;
}

/**
 * Writes a registry file (the YAML format, parsed) into the records: validated as a whole
 * first by the same rules as buildRegistry (every bad row named: ImportRefused), then
 * written in one transaction with its audit entry, so a failure leaves nothing behind.
 * Rows are upserted by id; rows the file does not name are left as they are, and so is
 * whether a row is disabled.
 */
export async function importRegistryFile(records: Records, raw: unknown, catalogue: Catalogue, opts: ImportOptions = {}): Promise<ImportSummary> {
  const checked = checkRegistry(raw, catalogue);
  if (!checked.ok) throw new ImportRefused(checked.problems.slice(0, MAX_IMPORT_PROBLEMS).map(toImportProblem), checked.problems.length);
  const { file } = checked.parts;
  const at = opts.at ?? Date.now();

  const jurisdictions: JurisdictionRecord[] = parentsFirst(file.jurisdictions).map((j) => ({
    id: j.id, name: j.name, level: j.level,
    ...(j.parent !== undefined && { parentId: j.parent }),
    ...(j.nameEn !== undefined && { nameEn: j.nameEn }),
    ...(j.kpiTargetPct !== undefined && { kpiTargetPct: j.kpiTargetPct }),
  }));
  const enterprises = file.enterprises.map((e) => ({
    id: e.id, name: e.name, industry: e.industry, jurisdictionId: e.township, timezone: e.timezone, shifts: e.shifts,
    ...(e.nameEn !== undefined && { nameEn: e.nameEn }),
    ...(e.profile !== undefined && { profile: e.profile }),
  }));
  const gateways = file.enterprises.flatMap((e) => e.gateways.map((g) => ({ id: g.id, enterpriseId: e.id, secretHash: g.secretHash })));
  const sensors = file.enterprises.flatMap((e) => e.gateways.flatMap((g) => g.sensors.map((s) => ({
    id: s.id, enterpriseId: e.id, gatewayId: g.id, agent: s.agent, unit: s.unit, min: s.min, max: s.max,
    intervalS: s.intervalS, workplace: s.workplace, labour: s.labour,
  }))));
  const users = file.users.map((u) => ({
    username: u.username, name: u.name, role: u.role, passwordHash: u.passwordHash,
    scope: u.role === 'enterprise' ? { enterpriseId: u.scope } : { jurisdictionId: u.scope },
  }));
  const summary: ImportSummary = { jurisdictions: jurisdictions.length, enterprises: enterprises.length, gateways: gateways.length, sensors: sensors.length, users: users.length };

  await records.transaction(async (tx) => {
    await tx.jurisdictions.put(jurisdictions);
    await tx.enterprises.put(enterprises, at);
    await tx.gateways.put(gateways, at);
    await tx.sensors.put(sensors, at);
    await tx.users.put(users, at);
    await tx.settings.set('grading', file.grading);
    await tx.audit.append([{ ts: at, actor: opts.actor ?? 'system', address: opts.address ?? '', action: 'registry.import', target: 'registry', after: summary }]);
  });
  return summary;
}
