import type { RegistryHolder } from '../../core/src/registry.ts';
import type { LiveInsights } from '../../core/src/pipeline-events.ts';
import type { Reading } from '../../core/src/types.ts';
import type { RulesEngine } from './engine.ts';

/** A snapshot of the sensors that had readings goes out this often, ms (what an API in another process shows is at most this old). */
export const INSIGHTS_EVERY_MS = 2000;
/** Every this many snapshots, every owned sensor of the registry (an API that restarted, a sensor gone quiet). */
export const INSIGHTS_FULL_EVERY = 30;
/** Sensors per message (~600 bytes each in JSON). */
export const INSIGHTS_SENSORS_PER_MESSAGE = 500;

/**
 * The rules engine's side of live insights for an API in another process: grades and live
 * exposure of the sensors that changed, every INSIGHTS_EVERY_MS, in bounded messages. The
 * set of changed sensors is bounded by the registry (unknown ids are not kept). With `owns`
 * (the engine's predicate: one rules worker of several) only the sensors and enterprises of
 * owned enterprises go out: another worker's would go out as nulls and blank what their
 * owner publishes.
 */
export function createInsightsPublisher(deps: {
  engine: Pick<RulesEngine, 'grade' | 'exposure' | 'enterpriseGrade'>;
  registry: RegistryHolder;
  publish: (snapshot: LiveInsights) => void;
  /** The same predicate as the engine's RulesDeps.owns; absent: every enterprise. */
  owns?: (enterpriseId: string) => boolean;
  now?: () => number;
  everyMs?: number;
}) {
  const now = deps.now ?? Date.now;
  const owns = deps.owns ?? (() => true);
  const ownsSensor = (id: string) => {
    const s = deps.registry.current.sensors.get(id);
    return s !== undefined && owns(s.enterpriseId);
  };
  const dirty = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let ticks = 0;
  const send = (sensorIds: Iterable<string>) => {
    const reg = deps.registry.current;
    let batch: string[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      const enterprises = new Set<string>();
      const sensors = batch.map((id) => {
        const s = reg.sensors.get(id);
        if (s) enterprises.add(s.enterpriseId);
        return { sensorId: id, grade: deps.engine.grade(id) ?? null, exposure: deps.engine.exposure(id) ?? null };
      });
      deps.publish({ ts: now(), sensors, enterprises: [...enterprises].map((e) => ({ enterpriseId: e, grade: deps.engine.enterpriseGrade(e) ?? null })) });
      batch = [];
    };
    for (const id of sensorIds) {
      if (!ownsSensor(id)) continue;
      batch.push(id);
      if (batch.length >= INSIGHTS_SENSORS_PER_MESSAGE) flush();
    }
    flush();
  };
  return {
    /** Readings the engine evaluated: their sensors go in the next snapshot. */
    touched(readings: readonly Reading[]) {
      for (const r of readings) if (ownsSensor(r.sensorId)) dirty.add(r.sensorId);
    },
    /** Publish now (the timer calls it; tests call it directly). */
    tick() {
      ticks++;
      const ids = ticks % INSIGHTS_FULL_EVERY === 1 ? [...deps.registry.current.sensors.keys()] : [...dirty];
      dirty.clear();
      send(ids);
    },
    start() {
      timer = setInterval(() => this.tick(), deps.everyMs ?? INSIGHTS_EVERY_MS);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
    },
  };
}
