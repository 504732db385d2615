import { createRequire } from 'node:module';
import type { AedesOptions } from 'aedes';

/** Aedes' message queue and session store on Redis, so several broker nodes form one cluster. */
export function clusterOptions(redisUrl: string): Pick<AedesOptions, 'mq' | 'persistence'> {
  // Both are CommonJS packages; Aedes 1.2 needs aedes-persistence-redis ≥ 12.
  const require = createRequire(import.meta.url);
  const u = new URL(redisUrl);
  const opts = { host: u.hostname, port: Number(u.port || 6379), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
  const mqemitterRedis = require('mqemitter-redis') as (o: object) => unknown;
  const persistenceRedis = require('aedes-persistence-redis') as (o: object) => unknown;
  return { mq: mqemitterRedis(opts), persistence: persistenceRedis(opts) };
}
