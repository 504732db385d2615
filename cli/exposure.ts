import type { Agent, AgentLimits, Catalogue, LimitValue, NoiseRule } from '../core/src/agents.ts';
import { PROFILE_ALIASES } from '../core/src/agents.ts';
import { limitsInForce, noLimitReason } from '../core/src/limits-in-force.ts';
import { excursionBound, excursionSource } from '../core/src/excursion-rule.ts';
import { ADJUST_USAGE, runAdjust } from './exposure-adjust.ts';
import { LEXW_USAGE, runLexw } from './exposure-lexw.ts';
import { RADON_USAGE, runRadon } from './exposure-radon.ts';
import { DEFAULT_GRADING_EDITION, type GradingEdition } from '../rules/src/grading.ts';
import { gradePoint } from '../rules/src/grade-point.ts';
import { coverage, lex8h, peak, peakExcursion, stel15max, twa8h, type Segment } from '../rules/src/segments.ts';
import { DEFAULT_NOISE_RULE, dosePct, doseToTwa, noiseThresholds, roundDb } from '../rules/src/noise-dose.ts';

/**
 * `hazardwatch exposure --profile <name> (--agent <key> | --pc-twa N [--pc-stel N] [--mac N] --unit U)
 *   [--labour 1-4] [--grading GBZ/T229-2010|GBZ/T229-2025] < segments.csv`
 *
 * Each input line is `start,end,value` (ISO 8601 or epoch ms; blank lines and # comments
 * skipped), the value in the agent's unit (dB(A) LAeq for noise). Time not covered by any
 * segment counts as unexposed. Prints one JSON object.
 *
 * Subcommands (arguments only, no input): `lexw`, `adjust`, `radon` (cli/exposure-*.ts).
 */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

const USAGE = 'usage: hazardwatch exposure --profile <name> (--agent <key> | --pc-twa N [--pc-stel N] [--mac N] --unit U) [--labour 1-4] [--grading GBZ/T229-2010|GBZ/T229-2025] < segments.csv';

function parseTime(s: string): number | undefined {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

export function parseSegments(text: string): { segments: Segment[] } | { error: string } {
  const segments: Segment[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    const parts = line.split(',');
    if (parts.length !== 3) return { error: `line ${i + 1}: expected start,end,value, got "${line}"` };
    const [a, b, v] = parts as [string, string, string];
    const startMs = parseTime(a);
    const endMs = parseTime(b);
    const value = Number(v.trim());
    if (startMs === undefined) return { error: `line ${i + 1}: start "${a.trim()}" is not ISO 8601 or epoch ms` };
    if (endMs === undefined) return { error: `line ${i + 1}: end "${b.trim()}" is not ISO 8601 or epoch ms` };
    if (endMs <= startMs) return { error: `line ${i + 1}: end is not after start` };
    if (v.trim() === '' || !Number.isFinite(value) || value < 0) return { error: `line ${i + 1}: value "${v.trim()}" is not a non-negative number` };
    segments.push({ startMs, endMs, value });
  }
  const sorted = [...segments].sort((x, y) => x.startMs - y.startMs);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.startMs < sorted[i - 1]!.endMs) return { error: 'segments overlap: each moment may be measured once' };
  if (segments.length === 0) return { error: 'no segments on standard input' };
  return { segments: sorted };
}

function args(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    m.set(a.slice(2), argv[i + 1] ?? '');
    i++;
  }
  return m;
}

const custom = (value: number, unit: string): LimitValue => ({ value, status: 'V', source: `given on the command line (${unit})` });

/** Subcommands that take their figures as arguments, not segments on standard input. */
export const EXPOSURE_SUBCOMMANDS: Record<string, { usage: string; run: (argv: string[], catalogue: Catalogue) => CliResult }> = {
  lexw: { usage: LEXW_USAGE, run: (argv) => runLexw(argv) },
  adjust: { usage: ADJUST_USAGE, run: (argv, catalogue) => runAdjust(argv, catalogue) },
  radon: { usage: RADON_USAGE, run: (argv) => runRadon(argv) },
};

export function runExposureCli(argv: string[], input: string, catalogue: Catalogue): CliResult {
  const sub = argv[0] !== undefined && Object.hasOwn(EXPOSURE_SUBCOMMANDS, argv[0]) ? EXPOSURE_SUBCOMMANDS[argv[0]] : undefined;
  if (sub) return argv[1] === '--help' || argv[1] === '-h' ? { code: 0, stdout: `${sub.usage}\n`, stderr: '' } : sub.run(argv.slice(1), catalogue);
  const a = args(argv);
  const fail = (msg: string): CliResult => ({ code: 2, stdout: '', stderr: `hazardwatch exposure: ${msg}\n${USAGE}\n` });
  const profileName = a.get('profile');
  if (!profileName) return fail('--profile is required');
  const profileId = PROFILE_ALIASES[profileName] ?? profileName;
  const profile = catalogue.profiles.get(profileId);
  if (!profile) return fail(`unknown profile "${profileName}" (known: ${[...catalogue.profiles.keys()].join(', ')})`);
  const grading = (a.get('grading') ?? DEFAULT_GRADING_EDITION) as GradingEdition;
  if (grading !== 'GBZ/T229-2010' && grading !== 'GBZ/T229-2025') return fail(`--grading must be GBZ/T229-2010 or GBZ/T229-2025`);
  const labour = Number(a.get('labour') ?? 2);
  if (![1, 2, 3, 4].includes(labour)) return fail('--labour must be 1, 2, 3 or 4 (GBZ/T 229 labour intensity Ⅰ–Ⅳ)');

  let agent: Agent | undefined;
  let limits: AgentLimits;
  const agentKey = a.get('agent');
  if (agentKey) {
    agent = catalogue.agents.get(agentKey);
    if (!agent) return fail(`unknown agent "${agentKey}"`);
    const l = limitsInForce(catalogue, profileId, agent);
    if (!l) return fail(noLimitReason(catalogue, profileId, agent));
    limits = l;
  } else {
    const unit = a.get('unit');
    if (!unit) return fail('--unit is required with --pc-twa');
    const num = (k: string) => (a.has(k) ? Number(a.get(k)) : undefined);
    const [t, s, m] = [num('pc-twa'), num('pc-stel'), num('mac')];
    for (const [k, v] of [['pc-twa', t], ['pc-stel', s], ['mac', m]] as const) if (v !== undefined && !(v > 0)) return fail(`--${k} must be a positive number`);
    if (t === undefined && m === undefined) return fail('give --agent, or --pc-twa and/or --mac');
    limits = {};
    if (t !== undefined) limits.pcTwa = custom(t, unit);
    if (s !== undefined) limits.pcStel = custom(s, unit);
    if (m !== undefined) limits.mac = custom(m, unit);
    if (unit === 'dB(A)' || unit === 'dBA') limits = { lex8h: custom(t ?? 85, unit), ...(m ? { mac: custom(m, unit) } : {}) };
  }
  const parsed = parseSegments(input);
  if ('error' in parsed) return fail(parsed.error);
  const segs = parsed.segments;
  const isNoise = agent ? agent.kind === 'noise' : limits.lex8h !== undefined;
  const unit = agent?.unit ?? a.get('unit')!;
  const from = segs[0]!.startMs;
  const out: Record<string, unknown> = {
    profile: profileId,
    agent: agent?.key ?? null,
    unit,
    segments: segs.length,
    coverage8h: Math.round(coverage(segs, from, from + 8 * 3600_000) * 1e6) / 1e6,
    limits,
  };
  const reasons: string[] = [];
  if (isNoise) {
    const rule: NoiseRule = profile.noise ?? DEFAULT_NOISE_RULE;
    const dose = dosePct(segs, rule);
    const equalEnergy = lex8h(segs);
    // The profile's 8-h level from its dose (noise-dose.ts, shared with the live engine).
    const level = doseToTwa(dose, rule);
    const { limitDb: limit, actionDb } = noiseThresholds(rule, limits);
    Object.assign(out, { twa8h: null, stel15max: null, peak: peak(segs), lex8h: level, lexEqualEnergy: equalEnergy, dosePercent: dose, actionLevel: actionDb, noiseRule: rule });
    if (roundDb(level) > limit) reasons.push(`LEX,8h ${level.toFixed(1)} dB(A) > ${limit}`);
    if (limits.mac && peak(segs) > limits.mac.value) reasons.push(`a level of ${peak(segs)} dB(A) > ${limits.mac.value}`);
    out.grade = gradePoint({ agent, limits, excursionRule: profile.excursionRule, x: { twa8h: 0, stel15max: 0, peak: peak(segs), lex8h: level }, labour: labour as 1, edition: grading });
  } else {
    const t = twa8h(segs);
    const s = stel15max(segs);
    const p = peak(segs);
    Object.assign(out, { twa8h: t, stel15max: s, peak: p, lex8h: null, dosePercent: limits.pcTwa ? (100 * t) / limits.pcTwa.value : null });
    if (limits.pcTwa && t > limits.pcTwa.value) reasons.push(`C_TWA ${t} > PC-TWA ${limits.pcTwa.value}`);
    if (limits.pcStel && s > limits.pcStel.value) reasons.push(`C_STE ${s} > PC-STEL ${limits.pcStel.value}`);
    if (limits.mac && p > limits.mac.value) reasons.push(`peak ${p} > MAC ${limits.mac.value}`);
    // The profile's excursion rule, as the live engine applies it (core/src/excursion-rule.ts):
    // GBZ 2.1-2019 for TWA-only agents; none under OSHA or NIOSH (then no peakExcursion field).
    const bound = excursionBound(profile.excursionRule, agent?.kind ?? 'gas', limits);
    if (bound) {
      const pe = peakExcursion(segs, bound.pcTwa.value);
      out.peakExcursion = { limit3x: 3 * bound.pcTwa.value, limit5x: 5 * bound.pcTwa.value, excursions: pe.excursions.length, failures: pe.failures, source: excursionSource(bound) };
      reasons.push(...pe.failures);
    }
    out.grade = gradePoint({ agent, limits, excursionRule: profile.excursionRule, x: { twa8h: t, stel15max: s, peak: p }, labour: labour as 1, edition: grading }) ?? null;
  }
  out.compliant = reasons.length === 0;
  out.reasons = reasons;
  return { code: 0, stdout: `${JSON.stringify(out, null, 2)}\n`, stderr: '' };
}
