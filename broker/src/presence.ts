import type { Aedes } from 'aedes';
import { parseGatewayTopic, topics } from '../../core/src/topics.ts';
import type { BrokerState } from './broker-state.ts';

/**
 * Gateway presence, from two sources: the connection itself (counted here too), and the
 * retained status topic (gateways' own "online" and their last will "offline").
 */
export function trackConnections(s: BrokerState, aedes: Aedes): void {
  const { counters, deps } = s;
  const m = deps.metrics;
  aedes.on('client', (client) => {
    counters.connections++;
    m?.mqttConnections.set(counters.connections);
    const id = s.identities.get(client);
    if (id?.kind === 'gateway') deps.onPresence?.({ enterpriseId: id.enterpriseId, gatewayId: id.gatewayId, online: true, ts: Date.now(), via: 'connect' });
  });
  aedes.on('clientDisconnect', (client) => {
    counters.connections--;
    m?.mqttConnections.set(counters.connections);
    const id = s.identities.get(client);
    if (id?.kind === 'gateway') deps.onPresence?.({ enterpriseId: id.enterpriseId, gatewayId: id.gatewayId, online: false, ts: Date.now(), via: 'disconnect' });
  });
}

/** Presence from the retained status topic; subscribed once Aedes listens. */
export function subscribeStatus(s: BrokerState, aedes: Aedes): void {
  aedes.subscribe(topics.allStatus, (packet, cb) => {
    const t = parseGatewayTopic(packet.topic);
    const payload = packet.payload.toString();
    if (t && (payload === 'online' || payload === 'offline')) s.deps.onPresence?.({ enterpriseId: t.enterpriseId, gatewayId: t.gatewayId, online: payload === 'online', ts: Date.now(), via: 'status' });
    cb();
  }, () => {});
}
