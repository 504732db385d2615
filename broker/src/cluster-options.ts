import type { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { AedesOptions } from 'aedes';
import { Redis } from 'ioredis';

/**
 * Aedes' message queue and session store on Redis, so several broker nodes form one
 * cluster. Their connection errors (Redis restarting) go to `onError`, never thrown:
 * mqemitter-redis re-emits them on its `state` emitter, where an error without a listener
 * ended the process (every node of the cluster at once on one Redis restart); ioredis
 * reconnects by itself and queues commands meanwhile.
 */
export function clusterOptions(redisUrl: string, onError: (source: string, err: Error) => void): Pick<AedesOptions, 'mq' | 'persistence'> {
  // Both are CommonJS packages; Aedes 1.2 needs aedes-persistence-redis ≥ 12.
  const require = createRequire(import.meta.url);
  const u = new URL(redisUrl);
  const opts = { host: u.hostname, port: Number(u.port || 6379), ...(u.password ? { password: decodeURIComponent(u.password) } : {}) };
  const mqemitterRedis = require('mqemitter-redis') as (o: object) => { state: EventEmitter };
  const persistenceRedis = require('aedes-persistence-redis') as (o: object) => unknown;
  const mq = mqemitterRedis(opts);
  mq.state.on('error', (err: Error) => onError('mqemitter-redis', err));
  // Its own connection, so that its errors have a listener too (the persistence disconnects it when Aedes closes).
  const conn = new Redis(opts);
  conn.on('error', (err: Error) => onError('aedes-persistence-redis', err));
  return { mq: mq as unknown as AedesOptions['mq'], persistence: persistenceRedis({ ...opts, conn }) as AedesOptions['persistence'] };
}
