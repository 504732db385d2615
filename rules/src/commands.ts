import type { AlertCommand, AlertEvent, ResolveReason } from '../../core/src/types.ts';
import type { EngineState } from './engine-state.ts';

/**
 * What people do to an active alert: acknowledge, resolve, comment. Undefined when the alert
 * is not active here, or is of an enterprise this worker does not own: in the split
 * deployment every rules worker may be asked, and only the owner answers.
 */
export function createCommands(e: EngineState) {
  const mine = (alertId: string) => {
    const a = e.alerts.get(alertId);
    return a !== undefined && e.ownership.owns(a.enterpriseId);
  };
  const acknowledge = (alertId: string, by: string, note: string): AlertEvent | undefined => (mine(alertId) ? e.alerts.acknowledge(alertId, by, note) : undefined);
  const resolve = (alertId: string, by: string, reason: ResolveReason, note: string): AlertEvent | undefined => (mine(alertId) ? e.alerts.resolve(alertId, by, reason, note) : undefined);
  const comment = (alertId: string, by: string, note: string): AlertEvent | undefined => (mine(alertId) ? e.alerts.comment(alertId, by, note) : undefined);
  return {
    acknowledge,
    resolve,
    comment,
    command(cmd: AlertCommand): AlertEvent | undefined {
      switch (cmd.op) {
        case 'ack': return acknowledge(cmd.alertId, cmd.by, cmd.note);
        case 'resolve': return resolve(cmd.alertId, cmd.by, cmd.reason, cmd.note);
        case 'comment': return comment(cmd.alertId, cmd.by, cmd.note);
      }
    },
  };
}
