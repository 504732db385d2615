import { Redis } from 'ioredis';

/**
 * Client ids belong to identities (MQTT 3.1.1 §3.1.3.1 leaves the id to the client; the
 * broker decides who may use one). The first username to connect with a client id owns
 * it while that connection lasts (clean session) or for as long as its stored session
 * exists (clean = false); a CONNECT with that id from another username is refused, so no
 * gateway can take over another's connection (Aedes closes the older connection of a
 * reused id, whose last will then reports a false gateway-offline) or its stored session
 * (queued messages, such as an ingest worker's). The same username may take its own id
 * over, as MQTT intends for a reconnect.
 *
 * Persistent sessions are bounded per owner (`maxPersistent`, 0 = unbounded): each one
 * holds queued messages in the broker. A persistent claim ends when its owner connects
 * with that id and clean = true (which also wipes the stored session) and disconnects.
 *
 * One implementation per topology: in memory for a single broker (Aedes' in-memory
 * persistence forgets sessions on restart, and so do these claims), and Redis for a
 * cluster, where the claim is one atomic script and clean-session claims carry a TTL
 * that each node refreshes while its connection lives, so a crashed node's claims end.
 */
export type ClaimResult = 'ok' | 'taken' | 'session-limit';

export interface ClaimRequest {
  clientId: string;
  /** The authenticated username. */
  owner: string;
  /** clean = false: the claim outlives the connection, like the session. */
  persistent: boolean;
  /** Most persistent client ids this owner may hold; 0 = unbounded. */
  maxPersistent: number;
  /** Identifies this connection: only it can release the claim it made. */
  token: string;
}

export interface ClientIdClaims {
  claim(req: ClaimRequest): Promise<ClaimResult>;
  /** The connection `token` ended: a clean-session claim it holds is released. */
  release(clientId: string, token: string): Promise<void>;
  close(): Promise<void>;
}

interface Claim { owner: string; token: string; persistent: boolean }

export function createMemoryClientIds(): ClientIdClaims {
  const claims = new Map<string, Claim>();
  const persistentByOwner = new Map<string, Set<string>>();
  return {
    async claim({ clientId, owner, persistent, maxPersistent, token }) {
      const cur = claims.get(clientId);
      if (cur && cur.owner !== owner) return 'taken';
      let mine = persistentByOwner.get(owner);
      if (persistent) {
        if (!mine?.has(clientId)) {
          if (maxPersistent > 0 && (mine?.size ?? 0) >= maxPersistent) return 'session-limit';
          if (!mine) persistentByOwner.set(owner, (mine = new Set()));
          mine.add(clientId);
        }
      } else if (mine?.delete(clientId) && mine.size === 0) persistentByOwner.delete(owner);
      claims.set(clientId, { owner, token, persistent });
      return 'ok';
    },
    async release(clientId, token) {
      const cur = claims.get(clientId);
      if (cur && cur.token === token && !cur.persistent) claims.delete(clientId);
    },
    async close() {},
  };
}

const CLAIM_KEY = (clientId: string) => `hw:mqtt:client-id:${clientId}`;
const PERSISTENT_KEY = (owner: string) => `hw:mqtt:persistent-client-ids:${owner}`;

// KEYS: claim hash, owner's set of persistent ids. ARGV: owner, token, persistent (1/0),
// maxPersistent, clean-claim TTL ms, clientId. Same rules as the in-memory claims above.
const CLAIM_LUA = `
local cur = redis.call('HGET', KEYS[1], 'owner')
if cur and cur ~= ARGV[1] then return 'taken' end
if ARGV[3] == '1' then
  if redis.call('SISMEMBER', KEYS[2], ARGV[6]) == 0 then
    local max = tonumber(ARGV[4])
    if max > 0 and redis.call('SCARD', KEYS[2]) >= max then return 'session-limit' end
    redis.call('SADD', KEYS[2], ARGV[6])
  end
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2], 'persistent', '1')
  redis.call('PERSIST', KEYS[1])
else
  redis.call('SREM', KEYS[2], ARGV[6])
  redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2], 'persistent', '0')
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
end
return 'ok'`;

// KEYS: claim hash. ARGV: token.
const RELEASE_LUA = `
if redis.call('HGET', KEYS[1], 'token') == ARGV[1] and redis.call('HGET', KEYS[1], 'persistent') == '0' then
  redis.call('DEL', KEYS[1])
end
return 0`;

// KEYS: claim hashes. ARGV: TTL ms, then one token per key.
const REFRESH_LUA = `
for i, key in ipairs(KEYS) do
  if redis.call('HGET', key, 'token') == ARGV[i + 1] then redis.call('PEXPIRE', key, ARGV[1]) end
end
return 0`;

export interface RedisClientIdsOptions {
  /** Lifetime of a clean-session claim without a refresh, ms (a crashed node's claims end after it). */
  cleanTtlMs?: number;
  onError?: (err: Error) => void;
}

export function createRedisClientIds(redisUrl: string, opts: RedisClientIdsOptions = {}): ClientIdClaims {
  const ttlMs = opts.cleanTtlMs ?? 90_000;
  const redis = new Redis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 3 });
  redis.on('error', (err: Error) => opts.onError?.(err));
  /** Clean-session claims of this node's live connections: clientId → token. */
  const live = new Map<string, string>();
  const REFRESH_BATCH = 500;
  const refresh = async () => {
    const entries = [...live];
    for (let i = 0; i < entries.length; i += REFRESH_BATCH) {
      const batch = entries.slice(i, i + REFRESH_BATCH);
      await redis.eval(REFRESH_LUA, batch.length, ...batch.map(([id]) => CLAIM_KEY(id)), String(ttlMs), ...batch.map(([, t]) => t));
    }
  };
  const timer = setInterval(() => void refresh().catch((err: Error) => opts.onError?.(err)), Math.max(1000, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    async claim({ clientId, owner, persistent, maxPersistent, token }) {
      const r = await redis.eval(CLAIM_LUA, 2, CLAIM_KEY(clientId), PERSISTENT_KEY(owner), owner, token, persistent ? '1' : '0', String(maxPersistent), String(ttlMs), clientId);
      if (r !== 'ok' && r !== 'taken' && r !== 'session-limit') throw new Error(`client id claim: unexpected answer ${String(r)}`);
      if (r === 'ok') {
        if (persistent) live.delete(clientId);
        else live.set(clientId, token);
      }
      return r;
    },
    async release(clientId, token) {
      if (live.get(clientId) === token) live.delete(clientId);
      await redis.eval(RELEASE_LUA, 1, CLAIM_KEY(clientId), token);
    },
    async close() {
      clearInterval(timer);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
