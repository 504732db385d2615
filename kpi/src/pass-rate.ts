import type { Registry } from '../../core/src/registry.ts';
import { COMPLETENESS_THRESHOLD_PCT, completeness, completenessPct, type Completeness } from './data-completeness.ts';
import { exceededIn, type Interval } from './exceedance-intervals.ts';
import type { Grade } from '../../core/src/types.ts';

/**
 * The plan indicator 工作场所职业病危害因素监测合格率 (workplace hazard monitoring pass
 * rate), per jurisdiction and period. Targets: Xuzhou 85 %, Taizhou 90 % by 2025 (shared/seeds).
 *
 * Each monitoring point (sensor) in the period is
 * - failing: it exceeded a limit at any time in [from, to] (an orange or red alert of an
 *   exposure rule, exceedance-intervals.ts), including an exceedance that began before
 *   `from` and was still active; an observed exceedance fails a point whatever its data;
 * - passing: no exceedance and data completeness ≥ COMPLETENESS_THRESHOLD_PCT (75 %);
 * - not assessed: no exceedance but too little data to say so.
 * passRatePct = passing / (passing + failing); null when no point is assessed.
 * dataCompletenessPct = Σ received / Σ expected readings over all points (capped per hour).
 */
export interface PassRate {
  jurisdictionId: string;
  name: string;
  level: string;
  from: number;
  to: number;
  points: number;
  /** passing + failing */
  assessed: number;
  passing: number;
  failing: number;
  notAssessed: number;
  passRatePct: number | null;
  dataCompletenessPct: number | null;
  completenessThresholdPct: number;
  targetPct: number;
  meetsTarget: boolean | null;
  /** Enterprises by their current grade (worst monitoring point). */
  enterpriseGrades: Record<string, number>;
}

const round1 = (x: number) => Math.round(10 * x) / 10;

export function passRates(opts: {
  registry: Registry;
  jurisdictionIds: readonly string[];
  /** Exceedance intervals per sensor (exceedanceIntervals of the alert events). */
  exceedances: ReadonlyMap<string, readonly Interval[]>;
  /** Data completeness per sensor over [from, to); a sensor missing here had no data. */
  completeness: ReadonlyMap<string, Completeness>;
  from: number;
  to: number;
  defaultTargetPct: number;
  enterpriseGrade: (enterpriseId: string) => Grade | undefined;
}): PassRate[] {
  return opts.jurisdictionIds.map((jid) => {
    const j = opts.registry.jurisdictions.get(jid)!;
    let points = 0;
    let passing = 0;
    let failing = 0;
    let received = 0;
    let expected = 0;
    const grades: Record<string, number> = {};
    for (const e of opts.registry.enterprises.values()) {
      if (!opts.registry.ancestors(e.township).includes(jid)) continue;
      const g = opts.enterpriseGrade(e.id);
      const key = g === undefined ? 'ungraded' : String(g);
      grades[key] = (grades[key] ?? 0) + 1;
      for (const gw of e.gateways) for (const s of gw.sensors) {
        points++;
        const c = opts.completeness.get(s.id) ?? completeness([], s.intervalS, opts.from, opts.to);
        received += c.received;
        expected += c.expected;
        if (exceededIn(opts.exceedances.get(s.id), opts.from, opts.to)) failing++;
        else if ((completenessPct(c) ?? 0) >= COMPLETENESS_THRESHOLD_PCT) passing++;
      }
    }
    // The nearest jurisdiction up the tree that sets a target wins.
    const target = opts.registry.ancestors(jid).map((a) => opts.registry.jurisdictions.get(a)?.kpiTargetPct).find((t) => t !== undefined) ?? opts.defaultTargetPct;
    const assessed = passing + failing;
    const rate = assessed ? round1((100 * passing) / assessed) : null;
    const dataPct = completenessPct({ received, expected });
    return {
      jurisdictionId: jid, name: j.name, level: j.level, from: opts.from, to: opts.to,
      points, assessed, passing, failing, notAssessed: points - assessed,
      passRatePct: rate, dataCompletenessPct: dataPct === null ? null : round1(dataPct), completenessThresholdPct: COMPLETENESS_THRESHOLD_PCT,
      targetPct: target, meetsTarget: rate === null ? null : rate >= target, enterpriseGrades: grades,
    };
  });
}
