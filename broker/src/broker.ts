import { randomUUID } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { Aedes } from 'aedes';
import { createAuthenticate } from './authenticate.ts';
import { createAuthorizePublish } from './authorize-publish.ts';
import { createAuthorizeSubscribe } from './authorize-subscribe.ts';
import { createBrokerState } from './broker-state.ts';
import type { Broker, BrokerConfig, BrokerDeps } from './broker-types.ts';
import { clusterOptions } from './cluster-options.ts';
import { createListeners } from './listeners.ts';
import { subscribeStatus, trackConnections } from './presence.ts';
import { revokeOnReload } from './revoke-on-reload.ts';
import { publishSysStats } from './sys-stats.ts';

export type { Broker, BrokerConfig, BrokerCounters, BrokerDeps, Presence } from './broker-types.ts';

/**
 * The MQTT broker (Aedes): creation, start, stop and the wiring of its handlers. The
 * handlers live one per file: authenticate.ts (throttle, secrets, scrypt cache), admit.ts
 * (client id claims), authorize-publish.ts (ACL, rate, payload size, retain, beforeAck),
 * authorize-subscribe.ts, presence.ts (connections and status), revoke-on-reload.ts,
 * listeners.ts (TCP, TLS, WebSocket), sys-stats.ts ($SYS counters).
 */
export function createBroker(deps: BrokerDeps, config: BrokerConfig): Broker {
  const s = createBrokerState(deps, config);
  const m = deps.metrics;
  let stopSysStats: (() => void) | undefined;

  const aedes = new Aedes({
    // Each node of a cluster needs its own id: Aedes closes a taken-over client on the
    // other nodes and publishes a dead node's wills only when node ids differ.
    id: config.redisUrl ? `hazardwatch-${randomUUID()}` : 'hazardwatch',
    // A subscriber that stops reading must not stall delivery to everyone else.
    drainTimeout: 30_000,
    ...(config.redisUrl ? clusterOptions(config.redisUrl, (source, err) => s.log.warn({ source, err: err.message }, 'broker cluster: redis error (reconnecting)')) : {}),
    authenticate: createAuthenticate(s),
    authorizePublish: createAuthorizePublish(s),
    authorizeSubscribe: createAuthorizeSubscribe(s),
  });

  trackConnections(s, aedes);
  aedes.on('publish', (packet, client) => {
    if (client) m?.mqttMessagesIn.inc();
  });
  aedes.on('clientError', (client, err) => s.log.debug({ clientId: client.id, err: err.message }, 'client error'));
  // Aedes emits its persistence's failures (Redis unreachable for longer than ioredis
  // queues commands) as 'error', which would end the process: the publish concerned is
  // not fanned out to subscribers (gateways' up messages are already held by then).
  (aedes as EventEmitter).on('error', (err: Error) => s.log.error({ err: err.message }, 'broker: persistence failed; continuing'));
  revokeOnReload(s, aedes);
  const listeners = createListeners(aedes, config);

  return {
    aedes,
    counters: s.counters,
    port: () => listeners.portOf('tcp'),
    tlsPort: () => listeners.portOf('tls'),
    wsPort: () => listeners.portOf('ws'),
    async start() {
      await aedes.listen();
      subscribeStatus(s, aedes);
      await listeners.start();
      stopSysStats = publishSysStats(aedes, s.counters);
      s.log.info({ port: listeners.portOf('tcp'), tlsPort: listeners.portOf('tls'), wsPort: listeners.portOf('ws'), cluster: Boolean(config.redisUrl) }, 'MQTT broker listening');
    },
    async stop() {
      stopSysStats?.();
      listeners.closeWebSockets();
      await new Promise<void>((r) => aedes.close(() => r()));
      await listeners.close();
      await s.clientIds.close();
    },
  };
}
