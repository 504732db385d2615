import { readFileSync } from 'node:fs';
import { EventEmitter } from 'node:events';
import { parse as parseYaml } from 'yaml';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HwError } from './errors.ts';
import { resolveProfileId, type Agent, type Catalogue } from './agents.ts';
import { limitsInForce, noLimitReason } from './limits-in-force.ts';
import type { Logger } from './logger.ts';
import type { Jurisdiction } from './types.ts';
import { toAgentUnit } from './units.ts';

/**
 * The registry: jurisdictions, enterprises with shifts, gateways with credential hashes,
 * sensors and users. A declarative file, validated as a whole at load (every problem
 * reported at once), reloadable without restart.
 */
const Id = Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$' });

const SensorSchema = Type.Object({
  id: Id,
  agent: Type.String(),
  workplace: Type.String(),
  /** Unit the sensor reports in (converted to the agent unit at ingest). */
  unit: Type.String(),
  /** Expected reporting interval, seconds (drives the dead-man). */
  intervalS: Type.Number({ exclusiveMinimum: 0, default: 5 }),
  /** Physical range of the instrument, in the sensor's unit. */
  min: Type.Number({ default: 0 }),
  max: Type.Number(),
  /** Labour intensity Ⅰ–Ⅳ at this workplace (GBZ/T 229 WL); default Ⅱ. */
  labour: Type.Union([Type.Literal(1), Type.Literal(2), Type.Literal(3), Type.Literal(4)], { default: 2 }),
});

const GatewaySchema = Type.Object({
  id: Id,
  secretHash: Type.String({ pattern: '^scrypt\\$' }),
  sensors: Type.Array(SensorSchema),
});

const ShiftSchema = Type.Object({
  name: Type.String(),
  /** Local start time HH:MM (Asia/Shanghai unless the enterprise says otherwise). */
  start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
  hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 }),
});

const EnterpriseSchema = Type.Object({
  id: Id,
  name: Type.String(),
  nameEn: Type.Optional(Type.String()),
  industry: Type.String(),
  township: Type.String(),
  profile: Type.Optional(Type.String()),
  timezone: Type.String({ default: 'Asia/Shanghai' }),
  shifts: Type.Array(ShiftSchema, { default: [] }),
  gateways: Type.Array(GatewaySchema),
});

const UserSchema = Type.Object({
  username: Type.String({ minLength: 1 }),
  name: Type.String(),
  role: Type.Union([Type.Literal('city'), Type.Literal('district'), Type.Literal('township'), Type.Literal('enterprise')]),
  /** A jurisdiction id for regulators, an enterprise id for enterprise safety officers. */
  scope: Type.String(),
  passwordHash: Type.String({ pattern: '^scrypt\\$' }),
});

export const RegistryFileSchema = Type.Object({
  jurisdictions: Type.Array(Type.Object({
    id: Id,
    name: Type.String(),
    nameEn: Type.Optional(Type.String()),
    level: Type.Union([Type.Literal('city'), Type.Literal('district'), Type.Literal('township')]),
    parent: Type.Optional(Type.String()),
    /** Plan target for the monitoring pass rate, % (Xuzhou 85, Taizhou 90). */
    kpiTargetPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  })),
  enterprises: Type.Array(EnterpriseSchema),
  users: Type.Array(UserSchema),
  /** GBZ/T 229 edition for risk grades (rules/src/grading.ts); absent = GBZ/T229-2025. */
  grading: Type.Optional(Type.Union([Type.Literal('GBZ/T229-2010'), Type.Literal('GBZ/T229-2025')])),
});

export type RegistryFile = Static<typeof RegistryFileSchema>;
export type SensorDef = Static<typeof SensorSchema>;
export type GatewayDef = Static<typeof GatewaySchema>;
export type EnterpriseDef = Static<typeof EnterpriseSchema>;
export type UserDef = Static<typeof UserSchema>;

export interface SensorEntry extends SensorDef {
  enterpriseId: string;
  gatewayId: string;
  townshipId: string;
  agentDef: Agent;
  profileId: string;
}

export interface Registry {
  readonly file: RegistryFile;
  readonly jurisdictions: ReadonlyMap<string, Jurisdiction>;
  readonly enterprises: ReadonlyMap<string, EnterpriseDef & { profileId: string }>;
  readonly gateways: ReadonlyMap<string, GatewayDef & { enterpriseId: string }>;
  readonly sensors: ReadonlyMap<string, SensorEntry>;
  readonly users: ReadonlyMap<string, UserDef>;
  /** Enterprise ids a user may see: the subtree of their jurisdiction, or their own enterprise. */
  visibleEnterprises(user: UserDef): ReadonlySet<string>;
  /** The jurisdiction chain of a township up to the city, nearest first. */
  ancestors(jurisdictionId: string): string[];
}

export const gatewayKey = (enterpriseId: string, gatewayId: string) => `${enterpriseId}/${gatewayId}`;

/** Every problem at once, up to MAX_PROBLEMS (a file of 100,000 bad sensors must not make a 10-MB message). */
const MAX_PROBLEMS = 50;
const problemList = (where: string, problems: readonly string[]) =>
  `${where}:\n  ${problems.slice(0, MAX_PROBLEMS).join('\n  ')}${problems.length > MAX_PROBLEMS ? `\n  … and ${problems.length - MAX_PROBLEMS} more` : ''}`;

/**
 * One problem of a registry, structured so that an import can name the row and field:
 * `row` is the JSON pointer of the offending row (`/enterprises/1/gateways/0/sensors/2`,
 * `/users/3`; `` for the file as a whole), `field` the field at fault when there is one.
 * `message` is the line buildRegistry has always printed.
 */
export interface RegistryProblem {
  row: string;
  field?: string;
  message: string;
}

/** The rows of a registry file: jurisdictions, users, enterprises, their gateways and those gateways' sensors. */
const ROW_POINTER = /^\/(?:jurisdictions\/\d+|users\/\d+|enterprises\/\d+(?:\/gateways\/\d+(?:\/sensors\/\d+)?)?)/;

/** Splits a schema error's path into the row it lies in and the field within that row. */
export function rowAndField(path: string): { row: string; field?: string } {
  const row = ROW_POINTER.exec(path)?.[0] ?? '';
  const rest = path.slice(row.length).replace(/^\//, '');
  return rest ? { row, field: rest } : { row };
}

interface RegistryParts {
  file: RegistryFile;
  jurisdictions: Map<string, Jurisdiction>;
  enterprises: Map<string, EnterpriseDef & { profileId: string }>;
  gateways: Map<string, GatewayDef & { enterpriseId: string }>;
  sensors: Map<string, SensorEntry>;
  users: Map<string, UserDef>;
}

/**
 * Validates a registry as a whole: every problem at once, each with its row and field.
 * The one place registry rules live (buildRegistry and the records import both use it).
 */
export function checkRegistry(raw: unknown, catalogue: Catalogue): { ok: true; parts: RegistryParts } | { ok: false; problems: RegistryProblem[] } {
  const withDefaults = Value.Default(RegistryFileSchema, structuredClone(raw));
  const problems: RegistryProblem[] = [...Value.Errors(RegistryFileSchema, withDefaults)].map((e) => ({ ...rowAndField(e.path), message: `${e.path || '/'}: ${e.message}` }));
  if (problems.length) return { ok: false, problems };
  const file = withDefaults as RegistryFile;
  const problem = (row: string, field: string | undefined, message: string) => problems.push(field ? { row, field, message } : { row, message });

  const jurisdictions = new Map<string, Jurisdiction>();
  file.jurisdictions.forEach((j, i) => {
    if (jurisdictions.has(j.id)) problem(`/jurisdictions/${i}`, 'id', `jurisdiction ${j.id}: duplicate id`);
    jurisdictions.set(j.id, j);
  });
  file.jurisdictions.forEach((j, i) => {
    if (j.parent && !jurisdictions.has(j.parent)) problem(`/jurisdictions/${i}`, 'parent', `jurisdiction ${j.id}: unknown parent ${j.parent}`);
    if (j.level !== 'city' && !j.parent) problem(`/jurisdictions/${i}`, 'parent', `jurisdiction ${j.id}: a ${j.level} needs a parent`);
    // A parent chain that comes back to where it started would make ancestors() loop for ever.
    let up = j.parent ? jurisdictions.get(j.parent) : undefined;
    for (let steps = 0; up && steps < jurisdictions.size; steps++, up = up.parent ? jurisdictions.get(up.parent) : undefined) {
      if (up.id === j.id) {
        problem(`/jurisdictions/${i}`, 'parent', `jurisdiction ${j.id}: its chain of parents loops back to it`);
        break;
      }
    }
  });
  const enterprises = new Map<string, EnterpriseDef & { profileId: string }>();
  const gateways = new Map<string, GatewayDef & { enterpriseId: string }>();
  const sensors = new Map<string, SensorEntry>();
  file.enterprises.forEach((e, ei) => {
    const eRow = `/enterprises/${ei}`;
    if (enterprises.has(e.id)) problem(eRow, 'id', `enterprise ${e.id}: duplicate id`);
    const township = jurisdictions.get(e.township);
    if (township?.level !== 'township') problem(eRow, 'township', `enterprise ${e.id}: township ${e.township} is not a township in the registry`);
    const profileId = resolveProfileId(catalogue, e.profile);
    if (!profileId) problem(eRow, 'profile', `enterprise ${e.id}: unknown limit profile ${e.profile}`);
    enterprises.set(e.id, { ...e, profileId: profileId ?? catalogue.defaultProfile });
    e.gateways.forEach((g, gi) => {
      const gRow = `${eRow}/gateways/${gi}`;
      const key = gatewayKey(e.id, g.id);
      if (gateways.has(key)) problem(gRow, 'id', `gateway ${key}: duplicate id`);
      gateways.set(key, { ...g, enterpriseId: e.id });
      g.sensors.forEach((s, si) => {
        const sRow = `${gRow}/sensors/${si}`;
        const agentDef = catalogue.agents.get(s.agent);
        if (!agentDef) problem(sRow, 'agent', `sensor ${s.id}: unknown agent ${s.agent}`);
        if (sensors.has(s.id)) problem(sRow, 'id', `sensor ${s.id}: duplicate id (sensor ids are global)`);
        if (s.max <= s.min) problem(sRow, 'max', `sensor ${s.id}: max must be above min`);
        if (agentDef && !toAgentUnit(1, s.unit, agentDef, 24.04).ok) problem(sRow, 'unit', `sensor ${s.id}: unit ${s.unit} cannot be converted to ${agentDef.unit}`);
        // A sensor whose agent has no limit in force could never raise an alert: refused, not monitored in silence.
        if (agentDef && profileId && !limitsInForce(catalogue, profileId, agentDef)) problem(sRow, 'agent', `sensor ${s.id} of enterprise ${e.id}: ${noLimitReason(catalogue, profileId, agentDef)}`);
        if (agentDef) sensors.set(s.id, { ...s, enterpriseId: e.id, gatewayId: g.id, townshipId: e.township, agentDef, profileId: profileId ?? catalogue.defaultProfile });
      });
    });
  });
  const users = new Map<string, UserDef>();
  file.users.forEach((u, i) => {
    if (users.has(u.username)) problem(`/users/${i}`, 'username', `user ${u.username}: duplicate`);
    users.set(u.username, u);
    if (u.role === 'enterprise' ? !enterprises.has(u.scope) : jurisdictions.get(u.scope)?.level !== u.role) {
      problem(`/users/${i}`, 'scope', `user ${u.username}: scope ${u.scope} is not a ${u.role === 'enterprise' ? 'known enterprise' : u.role}`);
    }
  });
  if (problems.length) return { ok: false, problems };
  return { ok: true, parts: { file, jurisdictions, enterprises, gateways, sensors, users } };
}

export function buildRegistry(raw: unknown, catalogue: Catalogue, where = 'registry'): Registry {
  const checked = checkRegistry(raw, catalogue);
  if (!checked.ok) throw new HwError('HW_ERR_REGISTRY', problemList(where, checked.problems.map((p) => p.message)));
  const { file, jurisdictions, enterprises, gateways, sensors, users } = checked.parts;

  const ancestors = (id: string): string[] => {
    const out: string[] = [];
    for (let j = jurisdictions.get(id); j; j = j.parent ? jurisdictions.get(j.parent) : undefined) out.push(j.id);
    return out;
  };
  const visibleCache = new Map<string, ReadonlySet<string>>();
  const visibleEnterprises = (user: UserDef): ReadonlySet<string> => {
    const cached = visibleCache.get(user.username);
    if (cached) return cached;
    const set = new Set<string>();
    for (const e of enterprises.values()) {
      if (user.role === 'enterprise' ? e.id === user.scope : ancestors(e.township).includes(user.scope)) set.add(e.id);
    }
    visibleCache.set(user.username, set);
    return set;
  };
  return { file, jurisdictions, enterprises, gateways, sensors, users, visibleEnterprises, ancestors };
}

export function loadRegistryFile(path: string, catalogue: Catalogue): Registry {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new HwError('HW_ERR_REGISTRY', `${path}: ${(err as Error).message}`);
  }
  return buildRegistry(raw, catalogue, path);
}

/** Holds the current registry; `reload()` swaps it atomically and emits 'reload'. */
export class RegistryHolder extends EventEmitter<{ reload: [Registry, Registry] }> {
  #current: Registry;
  constructor(initial: Registry, private readonly loader?: () => Registry) {
    super();
    this.#current = initial;
  }
  get current(): Registry {
    return this.#current;
  }
  /**
   * The reload a running service does (SIGHUP): load and validate the file; a refused file
   * never stops the service, it keeps the registry in force and logs why. Returns whether
   * the new registry is now in force.
   */
  reloadOrKeep(log: Pick<Logger, 'info' | 'error'>): boolean {
    let fresh: Registry;
    try {
      const loaded = this.loader?.();
      if (!loaded) throw new Error('RegistryHolder has no loader');
      fresh = loaded;
    } catch (err) {
      const e = err as Error & { code?: string };
      log.error({ code: e.code, err: e.message.slice(0, 4000) }, 'registry reload refused; the previous registry stays in force');
      return false;
    }
    try {
      this.reload(fresh);
    } catch (err) {
      // The new registry is in force; a listener (e.g. the broker revoking sessions) failed on it.
      log.error({ err: (err as Error).message }, 'registry reloaded, but a reload listener failed');
      return true;
    }
    log.info({ enterprises: fresh.enterprises.size, sensors: fresh.sensors.size }, 'registry reloaded');
    return true;
  }

  /** Validates the new registry fully before swapping; a bad file leaves the old one in force. */
  reload(next?: Registry): Registry {
    const fresh = next ?? this.loader?.();
    if (!fresh) throw new Error('RegistryHolder has no loader');
    const previous = this.#current;
    this.#current = fresh;
    this.emit('reload', fresh, previous);
    return fresh;
  }
}
