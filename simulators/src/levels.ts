import type { Catalogue } from '../../core/src/agents.ts';
import type { SensorEntry } from '../../core/src/registry.ts';

/** Typical background level and the level an incident drives to, in the agent unit. */
export function levelsFor(sensor: SensorEntry, catalogue: Catalogue): { base: number; incident: number; noise: number } {
  const a = sensor.agentDef;
  if (a.kind === 'noise') return { base: 80, incident: 118, noise: 2 };
  if (a.kind === 'radon') return { base: 150, incident: 1400, noise: 30 };
  const l = catalogue.limits(sensor.profileId, sensor.agent);
  const ceiling = l?.mac?.value ?? l?.pcStel?.value ?? (l?.pcTwa ? 5 * l.pcTwa.value : 1);
  const twa = l?.pcTwa?.value ?? ceiling;
  return { base: 0.3 * twa, incident: 1.5 * ceiling, noise: 0.08 * twa };
}

/** Agent unit → the sensor's reporting unit (only ppm needs work: ppm = mg/m³ × Vm / M). */
export function toSensorUnit(valueStd: number, sensor: SensorEntry, molarVolumeL: number): number {
  if (sensor.unit === 'ppm' && sensor.agentDef.molarMass) return (valueStd * molarVolumeL) / sensor.agentDef.molarMass;
  if (sensor.unit === 'ppb' && sensor.agentDef.molarMass) return (1000 * valueStd * molarVolumeL) / sensor.agentDef.molarMass;
  return valueStd;
}
