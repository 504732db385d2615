import type { Catalogue } from '../../core/src/agents.ts';
import type { SensorEntry } from '../../core/src/registry.ts';
import type { SensorProfile } from './profiles.ts';

/** The agent's main limit and ceiling in its own unit (for levels and incidents). */
export function limitsOf(sensor: SensorEntry, catalogue: Catalogue): { main: number; ceiling: number } {
  const a = sensor.agentDef;
  if (a.kind === 'noise') return { main: 85, ceiling: 115 };
  const l = catalogue.limits(sensor.profileId, sensor.agent);
  if (a.kind === 'radon') return { main: l?.reference?.value ?? 1000, ceiling: l?.reference?.value ?? 1000 };
  const ceiling = l?.mac?.value ?? l?.pcStel?.value ?? (l?.pcTwa ? 5 * l.pcTwa.value : 1);
  return { main: l?.pcTwa?.value ?? l?.mac?.value ?? ceiling, ceiling };
}

/** Typical in-shift level in the agent unit. */
export function baseLevel(sensor: SensorEntry, catalogue: Catalogue, profile?: SensorProfile): number {
  if (profile) return 'absolute' in profile.level ? profile.level.absolute : profile.level.fractionOfLimit * limitsOf(sensor, catalogue).main;
  const k = sensor.agentDef.kind;
  return k === 'noise' ? 80 : k === 'radon' ? 150 : 0.3 * limitsOf(sensor, catalogue).main;
}

/** Agent unit → the sensor's reporting unit (only ppm/ppb need work: ppm = mg/m³ × Vm / M). */
export function toSensorUnit(valueStd: number, sensor: SensorEntry, molarVolumeL: number): number {
  if (sensor.unit === 'ppm' && sensor.agentDef.molarMass) return (valueStd * molarVolumeL) / sensor.agentDef.molarMass;
  if (sensor.unit === 'ppb' && sensor.agentDef.molarMass) return (1000 * valueStd * molarVolumeL) / sensor.agentDef.molarMass;
  return valueStd;
}
