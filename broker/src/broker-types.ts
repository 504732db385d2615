import type { Aedes } from 'aedes';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';

/** The broker's public shapes; broker.ts re-exports them (the handler files import them from here, so no file imports broker.ts back). */

export interface BrokerConfig {
  host: string;
  port: number;
  maxPayloadBytes: number;
  serviceUsername: string;
  /** Internal services' password; compared in constant time. */
  servicePassword: string;
  maxConnections?: number;
  /** Messages per second per gateway; 0 = unlimited. */
  ratePerGatewayPerS?: number;
  rateBurst?: number;
  /** Failed logins per address per minute before the address is blocked. */
  authFailLimit?: number;
  /** Failed logins per account per minute before new addresses are blocked for it (auth-throttle.ts). */
  authFailLimitPerAccount?: number;
  authBlockS?: number;
  /** Persistent (clean = false) sessions one gateway account may hold; 0 = unbounded. */
  maxPersistentSessionsPerGateway?: number;
  /** -1 or undefined = off. */
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  wsPort?: number;
  redisUrl?: string;
}

export interface BrokerCounters {
  connections: number;
  refused: Record<string, number>;
  published: number;
  delivered: number;
}

export interface Presence {
  enterpriseId: string;
  gatewayId: string;
  online: boolean;
  ts: number;
  /** What told us: the retained status message, or the connection itself. */
  via: 'status' | 'connect' | 'disconnect';
}

export interface Broker {
  readonly aedes: Aedes;
  readonly counters: BrokerCounters;
  /** Ports actually bound (after start); -1 where a listener is off. */
  port(): number;
  tlsPort(): number;
  wsPort(): number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface BrokerDeps {
  registry: RegistryHolder;
  logger: Logger;
  metrics?: Metrics;
  /**
   * Hands every authorised gateway publish to ingest *before* Aedes sends the QoS 1
   * PUBACK (Aedes 1.x acknowledges before it delivers to subscribers): in one process to
   * the ingest spool, distributed to the Redis stream ingest workers read
   * (Transport.deliver). The PUBACK waits for the returned promise, so an acknowledged
   * reading is already held, and a full spool or stream backlog holds acknowledgements back.
   */
  beforeAck?: (topic: string, payload: Buffer, enterpriseId: string) => Promise<void> | undefined;
  /** Gateway online / offline (distinct from a sensor's dead-man). */
  onPresence?: (p: Presence) => void;
}
