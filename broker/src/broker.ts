import { createServer, type Server, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';
import { Aedes, type AedesOptions, type AuthenticateError, type Client } from 'aedes';
import { Redis } from 'ioredis';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import { plainSecretEquals, verifySecret } from '../../core/src/password.ts';
import { gatewayKey, type RegistryHolder } from '../../core/src/registry.ts';
import { parseGatewayTopic, topics } from '../../core/src/topics.ts';
import { checkPublish, checkSubscribe, type Identity } from './acl.ts';
import { AuthThrottle } from './auth-throttle.ts';
import { createMemoryClientIds, createRedisClientIds, type ClaimResult, type ClientIdClaims } from './client-ids.ts';
import { messageRejection } from './gateway-errors.ts';

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

// MQTT 3.1.1 §3.2.2.3 CONNACK return codes.
const IDENTIFIER_REJECTED = 2;
const SERVER_UNAVAILABLE = 3;
const BAD_USERNAME_OR_PASSWORD = 4;
const NOT_AUTHORIZED = 5;

function authError(message: string, returnCode: number): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** MQTT allows 65,535 bytes; gateways need far fewer, and every claim is stored. */
const MAX_CLIENT_ID_CHARS = 256;
/** Client ids of internal services (`hw-ingest`, `hw-rules`, …): only the service account uses them. */
const SERVICE_ID_PREFIX = 'hw-';

const remoteAddress = (client: Client) => (client.conn as Partial<Socket>).remoteAddress ?? (client.req?.socket.remoteAddress) ?? 'unknown';

/** Token bucket per gateway: `rate` tokens a second up to `burst`. */
class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly rate: number, private readonly burst: number) {}
  take(key: string, now = Date.now()): boolean {
    if (this.rate <= 0) return true;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { tokens: this.burst, at: now }));
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/**
 * Aedes' emitter and persistence on Redis. Their connection errors (Redis restarting) are
 * reported to `onError`, not thrown: mqemitter-redis re-emits them on its `state` emitter,
 * where an error without a listener ended the process, every node of the cluster at once
 * on one Redis restart; ioredis reconnects by itself and queues commands meanwhile.
 */
function clusterOptions(redisUrl: string, onError: (source: string, err: Error) => void): Pick<AedesOptions, 'mq' | 'persistence'> {
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

export function createBroker(deps: BrokerDeps, config: BrokerConfig): Broker {
  const log = deps.logger.child({ module: 'broker' });
  const m = deps.metrics;
  const identities = new WeakMap<Client, Identity>();
  /** The stored hash a gateway session authenticated against: a re-keyed gateway is closed. */
  const authHashes = new WeakMap<Client, string>();
  const counters: BrokerCounters = { connections: 0, refused: {}, published: 0, delivered: 0 };
  const refuse = (reason: string) => {
    counters.refused[reason] = (counters.refused[reason] ?? 0) + 1;
    m?.mqttRefused.inc({ reason });
  };
  // scrypt costs ~50 ms; remember successful checks per (user, hash of secret, stored hash)
  // so reconnect storms do not pin the CPU. A registry change invalidates entries because
  // the stored hash is part of the key.
  const verified = new Set<string>();
  const limiter = new RateLimiter(config.ratePerGatewayPerS ?? 0, config.rateBurst ?? 1000);
  const throttle = new AuthThrottle({
    perAddressLimit: config.authFailLimit ?? 5,
    perAccountLimit: config.authFailLimitPerAccount ?? 20,
    blockMs: (config.authBlockS ?? 60) * 1000,
    // Review 1 finding 4: guesses at `svc` from many addresses must not lock the split
    // services out (after a restart the broker knows none of their addresses).
    neverLockAccounts: [config.serviceUsername],
  });
  const clientIds: ClientIdClaims = config.redisUrl
    ? createRedisClientIds(config.redisUrl, { onError: (err) => log.warn({ err: err.message }, 'client id claims: redis error') })
    : createMemoryClientIds();
  const servers: { kind: 'tcp' | 'tls' | 'ws'; server: Server | TlsServer | HttpServer; wss?: WebSocketServer }[] = [];
  let sysTimer: NodeJS.Timeout | undefined;

  /**
   * The credentials are right; now the client id (client-ids.ts): service ids `hw-*` are
   * the service account's, an id in use by or holding a stored session of another
   * username is refused, and a gateway holds at most `maxPersistentSessionsPerGateway`
   * persistent sessions. A refusal here leaves the id's owner connected and untouched.
   */
  const admit = (client: Client, username: string, identity: Identity, secretHash: string | undefined, done: (err: AuthenticateError | null, ok: boolean) => void) => {
    const clientId = client.id;
    if (clientId.length > MAX_CLIENT_ID_CHARS) {
      refuse('client_id_too_long');
      return done(authError(`client id longer than ${MAX_CLIENT_ID_CHARS} characters`, IDENTIFIER_REJECTED), false);
    }
    if (identity.kind === 'gateway' && clientId.startsWith(SERVICE_ID_PREFIX)) {
      refuse('client_id_reserved');
      log.warn({ username, clientId }, 'gateway refused: client ids hw-* are reserved for services');
      return done(authError(`client ids ${SERVICE_ID_PREFIX}* are reserved for services`, IDENTIFIER_REJECTED), false);
    }
    const token = randomUUID();
    const maxPersistent = identity.kind === 'gateway' ? (config.maxPersistentSessionsPerGateway ?? 8) : 0;
    clientIds.claim({ clientId, owner: username, persistent: !client.clean, maxPersistent, token }).then(
      (result: ClaimResult) => {
        if (result === 'taken') {
          refuse('client_id_taken');
          log.warn({ username, clientId }, 'refused: client id belongs to another identity');
          return done(authError('client id in use by another identity', IDENTIFIER_REJECTED), false);
        }
        if (result === 'session-limit') {
          refuse('persistent_session_limit');
          log.warn({ username, clientId, max: maxPersistent }, 'refused: too many persistent sessions for this gateway');
          return done(authError(`at most ${maxPersistent} persistent sessions per gateway; connect with clean = true to end one`, NOT_AUTHORIZED), false);
        }
        const release = () => void clientIds.release(clientId, token).catch((err: Error) => log.warn({ clientId, err: err.message }, 'could not release client id claim'));
        // The connection may have gone while the claim was made: Aedes then never calls back.
        if (client.closed || (client.conn as Partial<Socket>).destroyed) return release();
        client.conn.once('close', release);
        identities.set(client, identity);
        if (secretHash !== undefined) authHashes.set(client, secretHash);
        done(null, true);
      },
      (err: Error) => {
        refuse('client_id_store');
        log.error({ clientId, err: err.message }, 'client id claim failed');
        done(authError('client id registry unavailable', SERVER_UNAVAILABLE), false);
      },
    );
  };

  const aedes = new Aedes({
    // Each node of a cluster needs its own id: Aedes closes a taken-over client on the
    // other nodes and publishes a dead node's wills only when node ids differ.
    id: config.redisUrl ? `hazardwatch-${randomUUID()}` : 'hazardwatch',
    // A subscriber that stops reading must not stall delivery to everyone else.
    drainTimeout: 30_000,
    ...(config.redisUrl ? clusterOptions(config.redisUrl, (source, err) => log.warn({ source, err: err.message }, 'broker cluster: redis error (reconnecting)')) : {}),
    authenticate(client, username, password, done) {
      const addr = remoteAddress(client);
      // A real account's name, for the per-account throttle; an unknown username has none.
      const account = username !== undefined && (username === config.serviceUsername || deps.registry.current.gateways.has(username)) ? username : undefined;
      const throttled = throttle.check(addr, account);
      if (throttled) {
        refuse(throttled === 'address' ? 'throttled' : 'throttled_account');
        return done(authError(throttled === 'address' ? 'too many failed logins from this address; try later' : 'too many failed logins for this account; try later', SERVER_UNAVAILABLE), false);
      }
      if (counters.connections >= (config.maxConnections ?? Infinity)) {
        refuse('max_connections');
        return done(authError('broker at its connection limit', SERVER_UNAVAILABLE), false);
      }
      const fail = (reason: string, message: string) => {
        refuse(reason);
        throttle.failed(addr, account);
        done(authError(message, BAD_USERNAME_OR_PASSWORD), false);
      };
      // The bytes as sent: a text decode would map distinct invalid sequences to one secret.
      const secret = password ?? Buffer.alloc(0);
      if (!username) return fail('no_credentials', 'username and password required');
      if (username === config.serviceUsername) {
        if (!plainSecretEquals(secret, config.servicePassword)) return fail('bad_credentials', 'bad service credentials');
        throttle.succeeded(addr, username);
        return admit(client, username, { kind: 'service', name: client.id }, undefined, done);
      }
      // Gateways log in as "{enterpriseId}/{gatewayId}"; an unknown one gets the same
      // answer as a wrong secret, so gateway ids cannot be probed.
      const gw = deps.registry.current.gateways.get(username);
      if (!gw) return fail('unknown_gateway', 'bad username or password');
      const cacheKey = `${username}\0${createHash('sha256').update(secret).digest('hex')}\0${gw.secretHash}`;
      const accept = () => {
        throttle.succeeded(addr, username);
        admit(client, username, { kind: 'gateway', enterpriseId: gw.enterpriseId, gatewayId: gw.id }, gw.secretHash, done);
      };
      if (verified.has(cacheKey)) return accept();
      verifySecret(secret, gw.secretHash).then(
        (ok) => {
          if (!ok) {
            log.warn({ username, clientId: client.id, addr }, 'gateway refused: bad secret');
            return fail('bad_credentials', 'bad username or password');
          }
          verified.add(cacheKey);
          accept();
        },
        (err: Error) => done(authError(err.message, NOT_AUTHORIZED), false),
      );
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null); // published by the broker itself (internal services in-process)
      const id = identities.get(client);
      if (!id) return done(new Error('not authenticated'));
      // MQTT 3.1.1 has no negative PUBACK: a refused publish closes the connection (MQTT-3.3.5-2).
      if (packet.topic.startsWith('$SYS')) {
        refuse('acl_publish');
        return done(new Error('$SYS is reserved'));
      }
      const why = checkPublish(id, packet.topic);
      if (why) {
        refuse('acl_publish');
        log.warn({ clientId: client.id, topic: packet.topic }, why);
        return done(new Error(why));
      }
      if (id.kind === 'gateway' && !limiter.take(gatewayKey(id.enterpriseId, id.gatewayId))) {
        // Closing (rather than dropping) keeps the QoS 1 message with the gateway, which resends it.
        refuse('rate_limited');
        log.warn({ clientId: client.id, rate: config.ratePerGatewayPerS }, 'publish refused: gateway over its message rate');
        return done(new Error('message rate exceeded'));
      }
      const t = id.kind === 'gateway' ? parseGatewayTopic(packet.topic) : undefined;
      // The limit guards against gateways; internal services (authenticated by the service
      // secret) forward accepted readings in batches that may be larger than any one gateway
      // message, and refusing one would only close their connection and stall the pipeline.
      if (id.kind === 'gateway' && t && packet.payload.length > config.maxPayloadBytes) {
        // No poison pill: closing the connection (as MQTT 3.1.1 has no negative PUBACK)
        // would make a QoS 1 client resend the same message on every reconnect, forever,
        // with everything queued behind it stalled. Instead the message is acknowledged
        // and turned, in place, into its rejection on the gateway's own err topic: Aedes
        // sends the PUBACK and then publishes this packet, which only err subscribers get.
        refuse('payload_too_large');
        log.warn({ clientId: client.id, topic: packet.topic, bytes: packet.payload.length }, 'publish rejected: payload too large (acknowledged, rejection sent to err)');
        packet.payload = messageRejection(packet.topic, 'HW_ERR_PAYLOAD_TOO_LARGE', `${packet.payload.length} bytes > ${config.maxPayloadBytes}`);
        packet.topic = topics.err(t.enterpriseId, t.gatewayId);
        packet.retain = false;
        return done(null);
      }
      // A retained `up` would be replayed to every new subscriber (an ingest worker that
      // restarts would store it again) and kept by the broker: the flag is stripped.
      if (t?.channel === 'up' && packet.retain) {
        refuse('retain_stripped');
        packet.retain = false;
      }
      counters.published++;
      const held = id.kind === 'gateway' && t?.channel === 'up' ? deps.beforeAck?.(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), id.enterpriseId) : undefined;
      // Not held (spool or stream full, Redis down): no PUBACK; the gateway keeps the message and sends it again.
      if (held) {
        held.then(() => done(null), (err: Error & { code?: string }) => {
          refuse(err.code === 'HW_ERR_BACKLOG_FULL' ? 'backlog_full' : 'not_stored');
          done(err);
        });
      } else done(null);
    },
    authorizeSubscribe(client, sub, done) {
      const id = identities.get(client);
      const why = id ? checkSubscribe(id, sub.topic) : 'not authenticated';
      if (why) {
        refuse('acl_subscribe');
        log.warn({ clientId: client.id, topic: sub.topic }, why);
        // A null subscription makes Aedes answer SUBACK 0x80 (failure) for this filter.
        return done(null, null);
      }
      done(null, sub);
    },
  });

  aedes.on('client', (client) => {
    counters.connections++;
    m?.mqttConnections.set(counters.connections);
    const id = identities.get(client);
    if (id?.kind === 'gateway') deps.onPresence?.({ enterpriseId: id.enterpriseId, gatewayId: id.gatewayId, online: true, ts: Date.now(), via: 'connect' });
  });
  aedes.on('clientDisconnect', (client) => {
    counters.connections--;
    m?.mqttConnections.set(counters.connections);
    const id = identities.get(client);
    if (id?.kind === 'gateway') deps.onPresence?.({ enterpriseId: id.enterpriseId, gatewayId: id.gatewayId, online: false, ts: Date.now(), via: 'disconnect' });
  });
  aedes.on('publish', (packet, client) => {
    if (client) m?.mqttMessagesIn.inc();
  });
  aedes.on('clientError', (client, err) => log.debug({ clientId: client.id, err: err.message }, 'client error'));
  // Aedes emits its persistence's failures (Redis unreachable for longer than ioredis
  // queues commands) as 'error', which would end the process: the publish concerned is
  // not fanned out to subscribers (gateways' up messages are already held by then).
  (aedes as EventEmitter).on('error', (err: Error) => log.error({ err: err.message }, 'broker: persistence failed; continuing'));

  // A registry reload revokes at once: close sessions whose gateway is gone or re-keyed.
  deps.registry.on('reload', (next) => {
    verified.clear();
    const clients = (aedes as unknown as { clients: Record<string, Client> }).clients;
    for (const client of Object.values(clients)) {
      const id = identities.get(client);
      if (id?.kind !== 'gateway') continue;
      const gw = next.gateways.get(gatewayKey(id.enterpriseId, id.gatewayId));
      if (!gw || gw.secretHash !== authHashes.get(client)) {
        log.warn({ clientId: client.id }, 'gateway revoked or re-keyed by registry reload: closing session');
        client.close();
      }
    }
  });

  const listen = (server: Server | TlsServer | HttpServer, port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, config.host, () => resolve());
    });
  const portOf = (kind: string) => {
    const s = servers.find((x) => x.kind === kind);
    return s ? ((s.server.address() as AddressInfo | null)?.port ?? -1) : -1;
  };
  // Nagle off: p99 publish latency ≈ 1 ms instead of ≈ 30 ms (performance.md).
  const handleSocket = (socket: Socket) => {
    socket.setNoDelay(true);
    aedes.handle(socket);
  };

  return {
    aedes,
    counters,
    port: () => portOf('tcp'),
    tlsPort: () => portOf('tls'),
    wsPort: () => portOf('ws'),
    async start() {
      await aedes.listen();
      // Presence from the retained status topic (gateways' own "online" and their last will "offline").
      aedes.subscribe(topics.allStatus, (packet, cb) => {
        const t = parseGatewayTopic(packet.topic);
        const payload = packet.payload.toString();
        if (t && (payload === 'online' || payload === 'offline')) deps.onPresence?.({ enterpriseId: t.enterpriseId, gatewayId: t.gatewayId, online: payload === 'online', ts: Date.now(), via: 'status' });
        cb();
      }, () => {});
      const tcp = createServer(handleSocket);
      await listen(tcp, config.port);
      servers.push({ kind: 'tcp', server: tcp });
      if ((config.tlsPort ?? -1) >= 0) {
        if (!config.tlsCert || !config.tlsKey) throw new Error('HW_MQTT_TLS_PORT is set: HW_MQTT_TLS_CERT and HW_MQTT_TLS_KEY are required');
        const tls = createTlsServer({
          cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey),
          // With a client CA, a client must present a certificate that CA signed: the
          // handshake fails otherwise, before any MQTT byte (credentials are still checked).
          ...(config.tlsCa ? { ca: readFileSync(config.tlsCa), requestCert: true, rejectUnauthorized: true } : {}),
        }, handleSocket);
        await listen(tls, config.tlsPort!);
        servers.push({ kind: 'tls', server: tls });
      }
      if ((config.wsPort ?? -1) >= 0) {
        const http = createHttpServer((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with the "mqtt" subprotocol'));
        const wss = new WebSocketServer({ server: http, handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false) });
        wss.on('connection', (ws, req) => aedes.handle(createWebSocketStream(ws), req));
        await listen(http, config.wsPort!);
        servers.push({ kind: 'ws', server: http, wss });
      }
      // hazardwatch's own counters next to Aedes' $SYS heartbeat.
      sysTimer = setInterval(() => {
        aedes.publish({ cmd: 'publish', topic: '$SYS/hazardwatch/broker', payload: Buffer.from(JSON.stringify({ ...counters, ts: Date.now() })), qos: 0, retain: true, dup: false }, () => {});
      }, 10_000);
      sysTimer.unref();
      log.info({ port: portOf('tcp'), tlsPort: portOf('tls'), wsPort: portOf('ws'), cluster: Boolean(config.redisUrl) }, 'MQTT broker listening');
    },
    async stop() {
      if (sysTimer) clearInterval(sysTimer);
      for (const s of servers) s.wss?.close();
      await new Promise<void>((r) => aedes.close(() => r()));
      await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.server.close(() => r()))));
      await clientIds.close();
    },
  };
}
