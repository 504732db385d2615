import { createCommands } from './commands.ts';
import { createEngineState } from './engine-state.ts';
import type { RulesConfig, RulesDeps, RulesEngine } from './engine-types.ts';
import { createExposureView } from './exposure-view.ts';
import { handlePresence } from './handle-presence.ts';
import { handleReadings } from './handle-readings.ts';
import { handleRejections } from './handle-rejections.ts';
import { createPeriodicCheck } from './periodic-check.ts';
import { rebuild } from './rebuild.ts';

export type { RulesConfig, RulesDeps, RulesEngine, RulesStatus, SensorExposure } from './engine-types.ts';

/**
 * The rules engine: creation, start, stop and the wiring of its steps. The steps live one
 * per file: evaluate-reading.ts (the rules on one reading), handle-readings.ts,
 * handle-rejections.ts, handle-presence.ts, commands.ts, rebuild.ts (state from the store at
 * start), periodic-check.ts (snapshot, shift ends, dead-man), exposure-view.ts (exposure and
 * grades). With `deps.owns` it is one worker of several, each owning the enterprises of its
 * stream partitions (ownership.ts); without, it owns everything (one process).
 */
export function createRulesEngine(deps: RulesDeps, config: RulesConfig): RulesEngine {
  const e = createEngineState(deps, config);
  const view = createExposureView(e);
  const commands = createCommands(e);
  const tick = createPeriodicCheck(e, view);
  let timer: NodeJS.Timeout | undefined;
  const flush = async () => {
    await e.events.flush();
    await e.shiftRecords.flush();
  };

  return {
    async start() {
      const restored = await rebuild(e, e.now());
      const every = e.deadMan.checkEveryMs(e.ownership.sensors());
      timer = setInterval(tick, every);
      timer.unref();
      Object.assign(e.health, { started: true, lastTickAt: e.now(), tickEveryMs: every });
      e.log.info({ restoredAlerts: restored.alerts, restoredFromStream: restored.unstoredEvents, restoredReadings: restored.readings, ownedSensors: restored.sensors, deadManCheckMs: every }, 'rules engine ready');
    },
    handleReadings: (readings) => handleReadings(e, readings),
    handlePresence: (p) => handlePresence(e, p),
    handleRejections: (rejections, ts) => handleRejections(e, rejections, ts),
    ...commands,
    activeAlerts: () => e.alerts.active(),
    ...view,
    tick,
    flush,
    status: () => ({ ...e.health, unsavedEvents: e.events.pending(), unsavedShiftRecords: e.shiftRecords.pending(), activeAlerts: e.alerts.count() }),
    async stop() {
      if (timer) clearInterval(timer);
      await flush();
    },
  };
}
