/**
 * A monitoring point's exposure over one shift, the legal unit of assessment: what the
 * engine stores at each shift's end and compares with the limit (`shift-twa` alert).
 *
 * - Chemicals and dusts: GBZ 2.1-2019 C_TWA = (C1T1 + … + CnTn) / 8 h, T in h; a shift shorter
 *   than 8 h is still divided by 8 h (oel.md §A.1, status V); compared with PC-TWA.
 * - Noise: the shift's dose under the profile's rule and its 8-h level (noise-dose.ts: GBZ
 *   LEX,8h, OSHA/NIOSH TWA), compared with the profile's limit.
 * - Radon: recorded, not compared (its reference level is an annual mean).
 * Time without readings counts as unexposed; `coverage` says how much of the shift was measured.
 */
import type { AgentLimits, NoiseRule } from '../../core/src/agents.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import type { ShiftWindow } from '../../core/src/shifts.ts';
import type { ShiftRecord } from '../../core/src/store/store.ts';
import type { AlertReason } from '../../core/src/types.ts';
import { assessDose, noiseThresholds, roundDb } from './noise-dose.ts';
import type { ExposureWindow } from './window.ts';

const H8 = 8 * 3600_000;

export function assessShift(opts: { sensor: SensorEntry; window: ExposureWindow; shift: ShiftWindow; limits: AgentLimits | undefined; noiseRule: NoiseRule }): { record: ShiftRecord; reason?: AlertReason } {
  const { sensor: s, window, shift, limits, noiseRule } = opts;
  const { dose, coveredMs } = window.dose(shift.startMs, shift.endMs);
  const cTwa = dose / H8;
  const coverage = Math.round(Math.min(1, coveredMs / (shift.endMs - shift.startMs)) * 1e6) / 1e6;
  const record: ShiftRecord = { sensorId: s.id, enterpriseId: s.enterpriseId, agent: s.agent, shift: shift.name, startMs: shift.startMs, endMs: shift.endMs, cTwa, coverage, exceeded: false };
  const when = `shift ${shift.name} ${new Date(shift.startMs).toISOString()}–${new Date(shift.endMs).toISOString()}`;
  if (s.agentDef.kind === 'noise') {
    const a = assessDose(cTwa, noiseRule);
    const n = noiseThresholds(noiseRule, limits);
    record.lex8h = Math.max(a.twaDb, -120); // no counted dose: −120 dB(A), as the live exposure reports it
    record.dosePct = a.dosePct;
    record.limit = n.limitDb;
    record.exceeded = roundDb(a.twaDb) > n.limitDb;
    return { record, reason: { metric: `shift LEX,8h / 8-h TWA (${when})`, value: record.lex8h, limit: n.limitDb, unit: 'dB(A)', source: n.limitSource, coverage } };
  }
  const pcTwa = s.agentDef.kind === 'radon' ? undefined : limits?.pcTwa;
  if (!pcTwa) return { record };
  record.limit = pcTwa.value;
  record.exceeded = cTwa > pcTwa.value;
  return { record, reason: { metric: `shift C_TWA = ΣCiTi / 8 h (${when})`, value: cTwa, limit: pcTwa.value, unit: s.agentDef.unit, source: `GBZ 2.1-2019 C_TWA over the shift; ${pcTwa.source}`, coverage } };
}
