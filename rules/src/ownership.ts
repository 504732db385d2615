import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { Registry, RegistryHolder, SensorEntry } from '../../core/src/registry.ts';

/** What reached a worker that does not own its enterprise (hw_rules_foreign_total's `kind`). */
export type ForeignKind = 'readings' | 'rejections' | 'presence';

export interface Ownership {
  /** Whether this worker owns the enterprise (always, with no predicate). */
  owns(enterpriseId: string): boolean;
  /** The registry's sensors of owned enterprises, in registry order. */
  sensors(): readonly SensorEntry[];
  /** Count `n` items of another worker's enterprises that reached this one; the first of each kind is logged. */
  foreign(kind: ForeignKind, n: number): void;
}

/**
 * The set of enterprises a rules worker owns (split deployment: its stream partitions). The
 * predicate's answers and the owned sensors are kept per registry snapshot, so the per-reading
 * check is a map lookup and a reload (SIGHUP) re-applies the same predicate to the new
 * registry; an id outside the registry (an alert of an enterprise since removed) asks the
 * predicate itself.
 */
export function createOwnership(deps: { owns?: (enterpriseId: string) => boolean; registry: RegistryHolder; metrics: Metrics; log: Logger }): Ownership {
  const predicate = deps.owns;
  let snapshot: Registry | undefined;
  let byEnterprise = new Map<string, boolean>();
  let owned: readonly SensorEntry[] = [];
  const refresh = () => {
    const reg = deps.registry.current;
    if (reg === snapshot) return;
    snapshot = reg;
    byEnterprise = new Map([...reg.enterprises.keys()].map((id) => [id, predicate ? predicate(id) : true]));
    owned = [...reg.sensors.values()].filter((s) => byEnterprise.get(s.enterpriseId) ?? (predicate ? predicate(s.enterpriseId) : true));
  };
  const logged = new Set<ForeignKind>();
  return {
    owns(enterpriseId) {
      if (!predicate) return true;
      refresh();
      return byEnterprise.get(enterpriseId) ?? predicate(enterpriseId);
    },
    sensors() {
      refresh();
      return owned;
    },
    foreign(kind, n) {
      if (n <= 0) return;
      deps.metrics.rulesForeign.inc({ kind }, n);
      // Once per kind and process: a misrouting repeats with every batch, the counter has the rate.
      if (!logged.has(kind)) {
        logged.add(kind);
        deps.log.warn({ kind, count: n }, 'items of enterprises this rules worker does not own: ignored (partition layout of the sender and this worker differ?); counted in hw_rules_foreign_total');
      }
    },
  };
}
