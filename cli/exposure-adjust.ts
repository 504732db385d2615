import { PROFILE_ALIASES, type Catalogue } from '../core/src/agents.ts';
import { briefScalaFactor, MAX_HOURS, oshaLeadAllowable, type ScheduleBasis } from '../rules/src/schedule-adjust.ts';
import { ArgError, argFailure, okJson, parseFlags, parseNumber } from './cli-args.ts';
import type { CliResult } from './exposure.ts';

export const ADJUST_USAGE = `usage: hazardwatch exposure adjust (--hours-per-day H | --hours-per-week H) [--profile <name> --agent <key>]
  factor: Brief & Scala, daily (8/h)·(24−h)/16 for 0 < h ≤ 24, weekly (40/h)·(168−h)/128 for 0 < h ≤ 168;
  1 for schedules of at most 8 h a day / 40 h a week (the model only lowers a limit).
  With --profile and --agent, adjustedLimit: the profile's own long-shift rule where it has one
  (OSHA lead, 29 CFR 1910.1025(c)(2): 400/hours µg/m3 for the day), otherwise factor × the 8-h TWA limit.`;

/** `hazardwatch exposure adjust --hours-per-day 10 [--profile OSHA --agent lead.dust]` → `{ factor, adjustedLimit? }`. */
export function runAdjust(argv: readonly string[], catalogue: Catalogue): CliResult {
  try {
    const f = parseFlags(argv, ['hours-per-day', 'hours-per-week', 'profile', 'agent']);
    const day = f.get('hours-per-day');
    const week = f.get('hours-per-week');
    if ((day === undefined) === (week === undefined)) throw new ArgError('give exactly one of --hours-per-day and --hours-per-week');
    const basis: ScheduleBasis = day !== undefined ? 'day' : 'week';
    const flag = `--hours-per-${basis}`;
    const hours = parseNumber(day ?? week, flag);
    if (!(hours > 0 && hours <= MAX_HOURS[basis])) throw new ArgError(`${flag} must be in (0, ${MAX_HOURS[basis]}], got ${hours}`);
    const factor = briefScalaFactor(hours, basis);
    const out: Record<string, unknown> = {
      factor,
      basis,
      hours,
      method: basis === 'day' ? 'Brief & Scala daily: RF = (8/h)·(24−h)/16' : 'Brief & Scala weekly: RF = (40/h)·(168−h)/128',
    };
    const profileName = f.get('profile');
    const agentKey = f.get('agent');
    if ((profileName === undefined) !== (agentKey === undefined)) throw new ArgError('--profile and --agent go together');
    if (profileName !== undefined && agentKey !== undefined) {
      const profileId = PROFILE_ALIASES[profileName] ?? profileName;
      if (!catalogue.profiles.has(profileId)) throw new ArgError(`unknown profile ${JSON.stringify(profileName.slice(0, 40))} (known: ${[...catalogue.profiles.keys()].join(', ')})`);
      const agent = catalogue.agents.get(agentKey);
      if (!agent) throw new ArgError(`unknown agent ${JSON.stringify(agentKey.slice(0, 60))}`);
      const limits = catalogue.limits(profileId, agentKey);
      const twa = limits?.pcTwa;
      if (!limits || !twa) throw new ArgError(`profile ${profileId} has no 8-h TWA limit for ${agentKey} to adjust`);
      out.profile = profileId;
      out.agent = agentKey;
      out.unit = agent.unit;
      out.limit = twa;
      if (limits.longShift) {
        if (basis !== 'day') throw new ArgError(`${profileId} adjusts ${agentKey} by the hours worked in the day (${limits.longShift.source}): give --hours-per-day`);
        out.adjustedLimit = oshaLeadAllowable(twa.value, hours);
        // 1910.1025(c)(2) states the allowable in µg/m3 (400 / hours): give it in that unit too.
        if (agent.unit === 'mg/m3') out.adjustedLimitUgM3 = (out.adjustedLimit as number) * 1000;
        out.adjustedMethod = { method: limits.longShift.method, source: limits.longShift.source, status: limits.longShift.status };
      } else {
        out.adjustedLimit = factor * twa.value;
        out.adjustedMethod = { method: 'brief-scala', source: out.method, status: 'S' };
      }
    }
    return okJson(out);
  } catch (err) {
    if (err instanceof ArgError) return argFailure(err, ADJUST_USAGE);
    throw err;
  }
}
