import type { LiveExposure, LiveInsights } from '../../core/src/pipeline-events.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import type { Grade, GradeResult } from '../../core/src/types.ts';
import type { Insights } from './monitoring-routes.ts';

/**
 * The API's Insights when the rules engine runs in another process: the latest snapshot
 * of each sensor and enterprise from the `insights.live` event. Bounded by the registry:
 * ids it does not know are not kept.
 */
export function createLiveInsights(registry: RegistryHolder): Insights & { receive(s: LiveInsights): void } {
  const sensors = new Map<string, { grade: GradeResult | null; exposure: LiveExposure | null }>();
  const enterprises = new Map<string, Grade | null>();
  return {
    receive(s) {
      const reg = registry.current;
      for (const x of s.sensors) if (reg.sensors.has(x.sensorId)) sensors.set(x.sensorId, { grade: x.grade, exposure: x.exposure });
      for (const e of s.enterprises) if (reg.enterprises.has(e.enterpriseId)) enterprises.set(e.enterpriseId, e.grade);
    },
    grade: (id) => sensors.get(id)?.grade ?? undefined,
    exposure: (id) => sensors.get(id)?.exposure ?? undefined,
    enterpriseGrade: (id) => enterprises.get(id) ?? undefined,
  };
}
