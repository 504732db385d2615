import { randomBytes } from 'node:crypto';
import type { Config } from '../../core/src/config.ts';
import type { BrokerConfig } from './broker-types.ts';

/** The broker's settings from the process config. */
export function brokerConfigFrom(config: Readonly<Config>, servicePassword = config.service.password || randomBytes(24).toString('hex')): BrokerConfig {
  const q = config.mqtt;
  return {
    host: q.host, port: q.port, maxPayloadBytes: q.maxPayloadBytes,
    serviceUsername: config.service.username, servicePassword,
    maxConnections: q.maxConnections, ratePerGatewayPerS: q.ratePerGatewayPerS, rateBurst: q.rateBurst,
    authFailLimit: q.authFailLimit, authFailLimitPerAccount: q.authFailLimitPerAccount, authBlockS: q.authBlockS,
    maxPersistentSessionsPerGateway: q.maxPersistentSessionsPerGateway,
    tlsPort: q.tlsPort, tlsCert: q.tlsCert, tlsKey: q.tlsKey, tlsCa: q.tlsCa, wsPort: q.wsPort, redisUrl: q.redisUrl,
  };
}
