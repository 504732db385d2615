import type { Client } from 'aedes';
import type { Logger } from '../../core/src/logger.ts';
import type { Identity } from './acl.ts';
import { AuthThrottle } from './auth-throttle.ts';
import type { BrokerConfig, BrokerCounters, BrokerDeps } from './broker-types.ts';
import { createMemoryClientIds, createRedisClientIds, type ClientIdClaims } from './client-ids.ts';
import { RateLimiter } from './rate-limiter.ts';

/**
 * What the broker's handlers share (authenticate.ts, admit.ts, authorize-publish.ts,
 * authorize-subscribe.ts, presence.ts, revoke-on-reload.ts): built once by createBroker,
 * all on one JavaScript task.
 */
export interface BrokerState {
  deps: BrokerDeps;
  config: BrokerConfig;
  log: Logger;
  counters: BrokerCounters;
  /** Who each authenticated client is (set once its client id is claimed, admit.ts). */
  identities: WeakMap<Client, Identity>;
  /** The stored hash a gateway session authenticated against: a re-keyed gateway is closed. */
  authHashes: WeakMap<Client, string>;
  /**
   * scrypt costs ~50 ms; successful checks are remembered per (user, hash of secret, stored
   * hash) so reconnect storms do not pin the CPU. A registry change invalidates entries
   * because the stored hash is part of the key (and the reload clears them).
   */
  verified: Set<string>;
  limiter: RateLimiter;
  throttle: AuthThrottle;
  clientIds: ClientIdClaims;
  /** Count a refusal by reason, in the counters and the metrics. */
  refuse(reason: string): void;
}

export function createBrokerState(deps: BrokerDeps, config: BrokerConfig): BrokerState {
  const log = deps.logger.child({ module: 'broker' });
  const counters: BrokerCounters = { connections: 0, refused: {}, published: 0, delivered: 0 };
  return {
    deps, config, log, counters,
    identities: new WeakMap(),
    authHashes: new WeakMap(),
    verified: new Set(),
    limiter: new RateLimiter(config.ratePerGatewayPerS ?? 0, config.rateBurst ?? 1000),
    throttle: new AuthThrottle({
      perAddressLimit: config.authFailLimit ?? 5,
      perAccountLimit: config.authFailLimitPerAccount ?? 20,
      blockMs: (config.authBlockS ?? 60) * 1000,
      // Review 1 finding 4: guesses at `svc` from many addresses must not lock the split
      // services out (after a restart the broker knows none of their addresses).
      neverLockAccounts: [config.serviceUsername],
    }),
    clientIds: config.redisUrl
      ? createRedisClientIds(config.redisUrl, { onError: (err) => log.warn({ err: err.message }, 'client id claims: redis error') })
      : createMemoryClientIds(),
    refuse(reason) {
      counters.refused[reason] = (counters.refused[reason] ?? 0) + 1;
      deps.metrics?.mqttRefused.inc({ reason });
    },
  };
}
