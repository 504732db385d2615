import type { RulesEngine } from './engine-types.ts';
import { GATEWAY_OFFLINE_REASON } from './alert-reasons.ts';
import type { EngineState } from './engine-state.ts';

/**
 * A gateway went online or offline (broker presence: retained status, last will): a
 * `gateway-offline` alert keyed by the gateway, distinct from its sensors' dead-man. An
 * enterprise not in the registry is ignored; one of another worker is ignored and counted.
 */
export function handlePresence(e: EngineState, p: Parameters<RulesEngine['handlePresence']>[0]): void {
  const ent = e.deps.registry.current.enterprises.get(p.enterpriseId);
  if (!ent) return;
  if (!e.ownership.owns(p.enterpriseId)) {
    e.ownership.foreign('presence', 1);
    return;
  }
  const key = `gateway:${p.enterpriseId}/${p.gatewayId}`;
  if (p.online) e.alerts.clearNow(key, 'gateway-offline', e.now());
  else e.alerts.fire({ sensorId: key, rule: 'gateway-offline', enterpriseId: p.enterpriseId, gatewayId: p.gatewayId, agent: 'gateway', townshipId: ent.township, level: 'yellow', reason: GATEWAY_OFFLINE_REASON }, e.now());
}
