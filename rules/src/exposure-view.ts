import { limitsInForce } from '../../core/src/limits-in-force.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import type { SensorExposure } from './engine-types.ts';
import type { EngineState } from './engine-state.ts';
import { gradePoint } from './grade-point.ts';
import { DEFAULT_GRADING_EDITION, worstGrade, type Grade, type GradeResult } from './grading.ts';
import { assessDose } from './noise-dose.ts';

/** No counted dose: −120 dB(A), as 10·lg(1e-12), not −Infinity (JSON, line protocol). */
const NO_DOSE_DB = -120;

/**
 * What the engine shows of its owned sensors now: live exposure, 8-h extremes, GBZ/T 229
 * grades of monitoring points and enterprises. A sensor or enterprise of another worker has
 * none here (undefined), so a caller never takes an empty answer for the owner's.
 */
export function createExposureView(e: EngineState) {
  /** The registry entry and state of an owned sensor with state. */
  const owned = (sensorId: string) => {
    const s = e.deps.registry.current.sensors.get(sensorId);
    const st = e.sensors.get(sensorId);
    return s && st && e.ownership.owns(s.enterpriseId) ? { s, st } : undefined;
  };

  function exposure(sensorId: string): SensorExposure | undefined {
    const o = owned(sensorId);
    if (!o) return undefined;
    const { s, st } = o;
    const t = Math.max(e.now(), st.window.lastTs);
    const m = st.window.metrics(t);
    const shift = e.shiftOf(s, t);
    const out: SensorExposure = { sensorId, ...m };
    const shiftMean = shift ? st.window.dose(shift.startMs, t).dose / (8 * 3600_000) : 0;
    if (s.agentDef.kind === 'noise') {
      const rule = e.noiseRuleOf(s);
      const a = assessDose(m.twa8h, rule);
      out.lex8h = Math.max(a.twaDb, NO_DOSE_DB);
      out.dosePct = a.dosePct;
      // The shift's level so far, in dB(A) like lex8h.
      if (shift) out.shift = { ...shift, twa: Math.max(assessDose(shiftMean, rule).twaDb, NO_DOSE_DB) };
    } else if (shift) out.shift = { ...shift, twa: shiftMean };
    return out;
  }

  function extremes8h(sensorId: string): { stel15max: number; peak: number } | undefined {
    const st = owned(sensorId)?.st;
    return st && st.window.extremes8h(Math.max(e.now(), st.window.lastTs));
  }

  function gradeOf(s: SensorEntry): GradeResult | undefined {
    const x = exposure(s.id);
    const limits = limitsInForce(e.deps.catalogue, s.profileId, s.agentDef);
    if (!x || !limits) return undefined;
    // The same grading as the CLI (grade-point.ts), over the last 8 h: C_TWA, the highest
    // C_STE and the highest reading (the peak ratio of TWA-only agents), the registry's edition.
    const ext = extremes8h(s.id)!;
    return gradePoint({
      agent: s.agentDef, limits, excursionRule: e.excursionRuleOf(s), labour: s.labour, edition: e.deps.registry.current.file.grading ?? DEFAULT_GRADING_EDITION,
      x: { twa8h: x.twa8h, stel15max: ext.stel15max, peak: ext.peak, lex8h: x.lex8h },
    });
  }

  return {
    exposure,
    extremes8h,
    grade(sensorId: string): GradeResult | undefined {
      const s = e.deps.registry.current.sensors.get(sensorId);
      return s && gradeOf(s);
    },
    /** GBZ/T 229: the enterprise's worst graded point. Every point of an enterprise is in its owner, so the grade is whole there. */
    enterpriseGrade(enterpriseId: string): Grade | undefined {
      if (!e.ownership.owns(enterpriseId)) return undefined;
      const grades: Grade[] = [];
      for (const s of e.ownership.sensors()) {
        if (s.enterpriseId !== enterpriseId) continue;
        const g = gradeOf(s);
        if (g) grades.push(g.grade);
      }
      return grades.length ? worstGrade(grades) : undefined;
    },
  };
}

export type ExposureView = ReturnType<typeof createExposureView>;
