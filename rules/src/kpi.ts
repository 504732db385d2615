import type { Registry } from '../../core/src/registry.ts';
import type { AlertEvent } from '../../core/src/types.ts';
import type { Grade } from './grading.ts';

/**
 * The plan indicator 工作场所职业病危害因素监测合格率 (workplace hazard monitoring pass
 * rate), per jurisdiction and period: the share of monitoring points with no exceedance
 * in the period. An exceedance is an orange or red alert of an exposure rule (above the
 * OEL, the MAC or 5 × PC-TWA); forecasts, action-level warnings, faults and the dead-man
 * do not fail a point. Targets: Xuzhou 85 %, Taizhou 90 % by 2025 (shared/seeds).
 */
export const EXCEEDANCE_RULES = new Set(['twa', 'stel', 'mac', 'peak', 'excursion', 'lex8h', 'radon-mean']);

export interface PassRate {
  jurisdictionId: string;
  name: string;
  level: string;
  from: number;
  to: number;
  points: number;
  passing: number;
  passRatePct: number | null;
  targetPct: number;
  meetsTarget: boolean | null;
  /** Enterprises by their current grade (worst monitoring point). */
  enterpriseGrades: Record<string, number>;
}

export function exceedingSensors(events: readonly AlertEvent[], from: number, to: number): Set<string> {
  const out = new Set<string>();
  for (const e of events) {
    if (e.ts < from || e.ts > to) continue;
    const a = e.alert;
    if (EXCEEDANCE_RULES.has(a.rule) && (a.level === 'orange' || a.level === 'red') && a.state !== 'cleared') out.add(a.sensorId);
  }
  return out;
}

export function passRates(opts: {
  registry: Registry;
  jurisdictionIds: readonly string[];
  events: readonly AlertEvent[];
  from: number;
  to: number;
  defaultTargetPct: number;
  enterpriseGrade: (enterpriseId: string) => Grade | undefined;
}): PassRate[] {
  const failing = exceedingSensors(opts.events, opts.from, opts.to);
  return opts.jurisdictionIds.map((jid) => {
    const j = opts.registry.jurisdictions.get(jid)!;
    let points = 0;
    let passing = 0;
    const grades: Record<string, number> = {};
    for (const e of opts.registry.enterprises.values()) {
      if (!opts.registry.ancestors(e.township).includes(jid)) continue;
      const g = opts.enterpriseGrade(e.id);
      const key = g === undefined ? 'ungraded' : String(g);
      grades[key] = (grades[key] ?? 0) + 1;
      for (const gw of e.gateways) for (const s of gw.sensors) {
        points++;
        if (!failing.has(s.id)) passing++;
      }
    }
    // The nearest jurisdiction up the tree that sets a target wins.
    const target = opts.registry.ancestors(jid).map((a) => opts.registry.jurisdictions.get(a)?.kpiTargetPct).find((t) => t !== undefined) ?? opts.defaultTargetPct;
    const rate = points ? Math.round((1000 * passing) / points) / 10 : null;
    return { jurisdictionId: jid, name: j.name, level: j.level, from: opts.from, to: opts.to, points, passing, passRatePct: rate, targetPct: target, meetsTarget: rate === null ? null : rate >= target, enterpriseGrades: grades };
  });
}
