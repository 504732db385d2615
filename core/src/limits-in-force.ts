import type { Agent, AgentLimits, Catalogue } from './agents.ts';

/**
 * The limits in force for an agent under a limit profile: the one lookup the registry
 * check, the rules engine and the CLI share. A profile may list an agent with nothing
 * that applies to its kind (or not list it at all: radon under OSHA, cement dust under
 * NIOSH); then no limit is in force and a sensor of that agent could never raise an
 * alert, so the registry refuses it (issue 12 item 5) instead of monitoring in silence.
 *
 * What applies, by kind (the rules in rules/src/evaluate.ts):
 * - gas, dust: PC-TWA, PC-STEL or MAC (GBZ 2.1-2019 §3: at least one of the three);
 * - noise: the 8-h level (LEX,8h, GBZ 2.2-2007 / the profile's criterion level);
 * - radon: the reference level (GB 18871-2002 Annex H; IAEA GSR Part 3 para 5.27).
 */
export function limitsInForce(catalogue: Catalogue, profileId: string, agent: Agent): AgentLimits | undefined {
  const l = catalogue.limits(profileId, agent.key);
  if (!l) return undefined;
  switch (agent.kind) {
    case 'gas':
    case 'dust':
      return l.pcTwa || l.pcStel || l.mac ? l : undefined;
    case 'noise':
      return l.lex8h ? l : undefined;
    case 'radon':
      return l.reference ? l : undefined;
  }
}

/** Why there is no limit, for a registry problem or a CLI error: names the agent and the profile. */
export function noLimitReason(catalogue: Catalogue, profileId: string, agent: Agent): string {
  const p = catalogue.profiles.get(profileId);
  const listed = p?.limits[agent.key] !== undefined;
  const needs = agent.kind === 'noise' ? 'an 8-h level (lex8h)' : agent.kind === 'radon' ? 'a reference level' : 'a PC-TWA, PC-STEL or MAC';
  return `agent ${agent.key} has no limit in profile ${profileId}${p ? ` (${p.name})` : ''}: ${listed ? `its entry lacks ${needs}` : 'the profile does not list it'}`;
}
