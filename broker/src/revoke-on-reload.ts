import type { Aedes, Client } from 'aedes';
import { gatewayKey } from '../../core/src/registry.ts';
import type { BrokerState } from './broker-state.ts';

/** A registry reload revokes at once: close sessions whose gateway is gone or re-keyed. */
export function revokeOnReload(s: BrokerState, aedes: Aedes): void {
  s.deps.registry.on('reload', (next) => {
    s.verified.clear();
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
    for (const client of Object.values(clients)) {
      const id = s.identities.get(client);
      if (id?.kind !== 'gateway') continue;
      const gw = next.gateways.get(gatewayKey(id.enterpriseId, id.gatewayId));
      if (!gw || gw.secretHash !== s.authHashes.get(client)) {
        s.log.warn({ clientId: client.id }, 'gateway revoked or re-keyed by registry reload: closing session');
        client.close();
      }
    }
  });
}
