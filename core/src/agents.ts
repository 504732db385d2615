import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HwError } from './errors.ts';
import { fromRoot } from './paths.ts';

const DATA_DIR = fromRoot('core/data');

const StatusTag = Type.Union([Type.Literal('V'), Type.Literal('S'), Type.Literal('M'), Type.Literal('C')]);

export const AgentSchema = Type.Object({
  name: Type.String(),
  nameEn: Type.String(),
  kind: Type.Union([Type.Literal('dust'), Type.Literal('gas'), Type.Literal('noise'), Type.Literal('radon')]),
  unit: Type.Union([Type.Literal('mg/m3'), Type.Literal('dB(A)'), Type.Literal('Bq/m3')]),
  molarMass: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  freeSilicaPct: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
  toxicity: Type.Optional(Type.Union([Type.Literal('mild'), Type.Literal('moderate'), Type.Literal('high'), Type.Literal('extreme')])),
  carcinogen: Type.Optional(Type.Boolean()),
  sensitiser: Type.Optional(Type.Boolean()),
  skin: Type.Optional(Type.Boolean()),
});
export type Agent = Static<typeof AgentSchema> & { key: string };

/** A limit value always travels with its status tag and source (oel.md legend). */
export const LimitValueSchema = Type.Object({
  value: Type.Number({ exclusiveMinimum: 0 }),
  status: StatusTag,
  source: Type.String({ minLength: 1 }),
  // Strict: in a YAML flow mapping an unquoted comma ends the source and starts a key, so
  // a source with a comma must be quoted; an extra key means one was cut short.
}, { additionalProperties: false });
export type LimitValue = Static<typeof LimitValueSchema>;

export const AgentLimitsSchema = Type.Object({
  pcTwa: Type.Optional(LimitValueSchema),
  pcStel: Type.Optional(LimitValueSchema),
  mac: Type.Optional(LimitValueSchema),
  lex8h: Type.Optional(LimitValueSchema),
  reference: Type.Optional(LimitValueSchema),
  /**
   * How the 8-h limit is lowered for a longer workday when the profile prescribes its own
   * rule (`pel-8-over-hours`: allowable = pcTwa · 8 / hours, OSHA lead 1910.1025(c)(2));
   * without it `hazardwatch exposure adjust` applies Brief & Scala.
   */
  longShift: Type.Optional(Type.Object({ method: Type.Literal('pel-8-over-hours'), status: StatusTag, source: Type.String({ minLength: 1 }) }, { additionalProperties: false })),
  /** Noise: the action level as an 8-h level in dB(A) (OSHA 85, GBZ 80); absent = 50 % of the daily dose. */
  action: Type.Optional(LimitValueSchema),
}, { additionalProperties: false });
export type AgentLimits = Static<typeof AgentLimitsSchema>;

/**
 * How a profile normalises noise (rules/src/noise-dose.ts): dose D = 100·Σ Cn/Tn with
 * Tn = 8 h / 2^((L − criterion)/exchange) (OSHA 1910.95 App. A; NIOSH 98-126), or with
 * `equalEnergy` Tn = 8 h / 10^((L − criterion)/10), the exact energy doubling that GBZ 2.2 /
 * ISO 9612 LEX,8h use. The 8-h level is TWA = twaFactorDb·lg(D/100) + criterion.
 */
export const NoiseRuleSchema = Type.Object({
  criterionDb: Type.Number(),
  exchangeRateDb: Type.Number({ exclusiveMinimum: 0 }),
  /** Levels below the threshold do not count towards the dose (OSHA 80 dB(A)). */
  thresholdDb: Type.Optional(Type.Number()),
  /** Exact equal energy (10·lg 2 ≈ 3.01 dB per doubling, TWA factor 10): LEX,8h of GBZ 2.2 / ISO 9612. */
  equalEnergy: Type.Optional(Type.Boolean()),
  /** k in TWA = k·lg(D/100) + criterion as the standard prints it (OSHA 16.61, NIOSH 10); default exchange / lg 2. */
  twaFactorDb: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  source: Type.String(),
  status: StatusTag,
});
export type NoiseRule = Static<typeof NoiseRuleSchema>;

/**
 * The short-excursion rule a profile's standard sets for agents with a PC-TWA and neither a
 * PC-STEL nor a MAC (core/src/excursion-rule.ts). Only GBZ 2.1-2019's peak exposure
 * (峰接触浓度) is modelled: excursions above 3 × PC-TWA at most 15 min, 4 a shift, 1 h apart,
 * never above 5 × PC-TWA. A profile without the field has no such rule (OSHA, NIOSH): its
 * TWA-only agents are judged on the TWA alone.
 */
export const ExcursionRuleSchema = Type.Object({
  rule: Type.Literal('GBZ2.1-2019-PE'),
  status: StatusTag,
  source: Type.String({ minLength: 1 }),
}, { additionalProperties: false });
export type ExcursionRule = Static<typeof ExcursionRuleSchema>;

export const LimitProfileSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  name: Type.String(),
  extends: Type.Optional(Type.String()),
  molarVolumeL: Type.Number({ exclusiveMinimum: 0 }),
  noise: Type.Optional(NoiseRuleSchema),
  excursionRule: Type.Optional(ExcursionRuleSchema),
  limits: Type.Record(Type.String(), AgentLimitsSchema),
  // Strict: a misspelt `excursionRule` must not silently switch a safety rule off.
}, { additionalProperties: false });
export type LimitProfile = Static<typeof LimitProfileSchema>;

export interface Catalogue {
  agents: ReadonlyMap<string, Agent>;
  profiles: ReadonlyMap<string, LimitProfile>;
  /** Profile aliases: `GBZ` is the default Chinese profile. */
  defaultProfile: string;
  limits(profileId: string, agentKey: string): AgentLimits | undefined;
}

function check<T>(schema: Parameters<typeof Value.Check>[0], value: unknown, where: string): T {
  const errors = [...Value.Errors(schema, value)].map((e) => `${where}${e.path}: ${e.message}`);
  if (errors.length) throw new HwError('HW_ERR_REGISTRY', errors.join('; '));
  return value as T;
}

export const PROFILE_ALIASES: Record<string, string> = { GBZ: 'GBZ2.1-2019' };

export function loadCatalogue(dataDir = DATA_DIR): Catalogue {
  const rawAgents = parseYaml(readFileSync(join(dataDir, 'agents.yaml'), 'utf8')) as { agents: Record<string, unknown> };
  const agents = new Map<string, Agent>();
  for (const [key, raw] of Object.entries(rawAgents.agents)) {
    agents.set(key, { key, ...check<Static<typeof AgentSchema>>(AgentSchema, raw, `agents.yaml ${key}`) });
  }
  const profiles = new Map<string, LimitProfile>();
  for (const file of readdirSync(join(dataDir, 'limits')).filter((f) => f.endsWith('.yaml')).sort()) {
    const p = check<LimitProfile>(LimitProfileSchema, parseYaml(readFileSync(join(dataDir, 'limits', file), 'utf8')), `limits/${file}`);
    for (const agentKey of Object.keys(p.limits)) {
      if (!agents.has(agentKey)) throw new HwError('HW_ERR_REGISTRY', `limits/${file}: unknown agent ${agentKey}`);
    }
    profiles.set(p.id, p);
  }
  // A profile may extend another and override agent by agent (e.g. an amendment).
  const resolved = new Map<string, LimitProfile>();
  const resolve = (id: string, seen: string[] = []): LimitProfile => {
    const done = resolved.get(id);
    if (done) return done;
    const p = profiles.get(id);
    if (!p) throw new HwError('HW_ERR_REGISTRY', `unknown limit profile ${id}${seen.length ? ` (extended by ${seen.at(-1)})` : ''}`);
    if (seen.includes(id)) throw new HwError('HW_ERR_REGISTRY', `profile cycle: ${[...seen, id].join(' → ')}`);
    const base = p.extends ? resolve(p.extends, [...seen, id]) : undefined;
    const merged: LimitProfile = base ? { ...base, ...p, noise: p.noise ?? base.noise, excursionRule: p.excursionRule ?? base.excursionRule, limits: { ...base.limits, ...p.limits } } : p;
    resolved.set(id, merged);
    return merged;
  };
  for (const id of profiles.keys()) resolve(id);
  const canonical = (id: string) => PROFILE_ALIASES[id] ?? id;
  return {
    agents,
    profiles: resolved,
    defaultProfile: 'GBZ2.1-2019',
    limits: (profileId, agentKey) => resolved.get(canonical(profileId))?.limits[agentKey],
  };
}

export function resolveProfileId(catalogue: Catalogue, id: string | undefined): string | undefined {
  const c = PROFILE_ALIASES[id ?? 'GBZ'] ?? id ?? catalogue.defaultProfile;
  return catalogue.profiles.has(c) ? c : undefined;
}
