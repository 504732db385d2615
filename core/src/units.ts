import type { Agent } from './agents.ts';

const canonical = new Map<string, string>();
/** Canonical spelling of a unit as gateways send it (mg/m³, µg/m3, dBA …); memoised (a few hundred spellings at most). */
export function canonicalUnit(unit: string): string {
  let c = canonical.get(unit);
  if (c === undefined) {
    c = canonicalise(unit);
    if (canonical.size < 512) canonical.set(unit, c);
  }
  return c;
}

function canonicalise(unit: string): string {
  const u = unit.trim().replace(/³/g, '3').replace(/µ|μ/g, 'u').replace(/\s+/g, '');
  const lower = u.toLowerCase();
  if (lower === 'dba' || lower === 'db(a)') return 'dB(A)';
  if (lower === 'bq/m3') return 'Bq/m3';
  if (lower === 'kbq/m3') return 'kBq/m3';
  if (lower === 'pci/l') return 'pCi/L';
  if (lower === 'mg/m3') return 'mg/m3';
  if (lower === 'ug/m3') return 'ug/m3';
  if (lower === 'ppm') return 'ppm';
  if (lower === 'ppb') return 'ppb';
  return u;
}

export type Conversion = { ok: true; value: number } | { ok: false; reason: string };

/**
 * Convert a value to the agent's limit unit.
 * ppm → mg/m³: mg/m³ = ppm × M / Vm, Vm the molar volume at the profile's reference
 * conditions (GBZ 2.1: 20 °C, 101.3 kPa → 24.04 L/mol; OSHA/ACGIH 25 °C → 24.45; oel.md §H).
 * Radon: 1 pCi/L = 37 Bq/m³ (exact by definition of the curie).
 */
export function toAgentUnit(value: number, unit: string, agent: Agent, molarVolumeL: number): Conversion {
  const u = canonicalUnit(unit);
  if (u === agent.unit) return { ok: true, value };
  switch (agent.unit) {
    case 'mg/m3':
      if (u === 'ug/m3') return { ok: true, value: value / 1000 };
      if ((u === 'ppm' || u === 'ppb') && agent.kind === 'gas' && agent.molarMass) {
        const ppm = u === 'ppb' ? value / 1000 : value;
        return { ok: true, value: (ppm * agent.molarMass) / molarVolumeL };
      }
      break;
    case 'Bq/m3':
      if (u === 'kBq/m3') return { ok: true, value: value * 1000 };
      if (u === 'pCi/L') return { ok: true, value: value * 37 };
      break;
    case 'dB(A)':
      break;
  }
  return { ok: false, reason: `${unit} cannot be converted to ${agent.unit} for ${agent.key}` };
}
