import { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HwError } from './errors.ts';

/**
 * One config schema. Every leaf has a default (with its unit in the description) and an
 * environment variable derived from its path: `influx.url` → `HW_INFLUX_URL`,
 * `mqtt.port` → `HW_MQTT_PORT`. All errors are reported at once, by variable name,
 * before anything starts; the result is frozen.
 */
export const ConfigSchema = Type.Object({
  mqtt: Type.Object({
    host: Type.String({ default: '0.0.0.0', description: 'MQTT/TCP listen address' }),
    port: Type.Integer({ default: 1883, minimum: 0, maximum: 65535, description: 'MQTT/TCP port (0 = any free port)' }),
    maxPayloadBytes: Type.Integer({ default: 256 * 1024, minimum: 256, description: 'largest accepted publish, bytes' }),
    maxConnections: Type.Integer({ default: 10_000, minimum: 1, description: 'connections at once; more are refused with CONNACK 3' }),
    ratePerGatewayPerS: Type.Number({ default: 200, minimum: 0, description: 'messages per second per gateway (token bucket; 0 = unlimited)' }),
    rateBurst: Type.Integer({ default: 1000, minimum: 1, description: 'token-bucket burst, messages' }),
    authFailLimit: Type.Integer({ default: 5, minimum: 1, description: 'failed logins per client address per minute before it is blocked' }),
    authFailLimitPerAccount: Type.Integer({ default: 20, minimum: 1, description: 'failed logins per account per minute (any addresses) before the account is refused from addresses it has not logged in from' }),
    authBlockS: Type.Integer({ default: 60, minimum: 1, description: 'how long a blocked address or account is refused, seconds' }),
    maxPersistentSessionsPerGateway: Type.Integer({ default: 8, minimum: 0, description: 'persistent (clean = false) client ids one gateway may hold (0 = unbounded)' }),
    tlsPort: Type.Integer({ default: -1, minimum: -1, maximum: 65535, description: 'MQTT over TLS port (-1 = off, 0 = any free port)' }),
    tlsCert: Type.String({ default: '', description: 'PEM certificate chain for the TLS listener' }),
    tlsKey: Type.String({ default: '', description: 'PEM private key for the TLS listener' }),
    tlsCa: Type.String({ default: '', description: 'PEM CA bundle to verify client certificates (optional)' }),
    wsPort: Type.Integer({ default: -1, minimum: -1, maximum: 65535, description: 'MQTT over WebSocket port (-1 = off, 0 = any free port)' }),
    redisUrl: Type.String({ default: '', description: 'redis://host:port to share subscriptions, retained messages and sessions between broker processes' }),
  }),
  http: Type.Object({
    host: Type.String({ default: '0.0.0.0', description: 'HTTP listen address' }),
    port: Type.Integer({ default: 8080, minimum: 0, maximum: 65535, description: 'HTTP port for API and dashboard (0 = any free port)' }),
    sessionTtlS: Type.Integer({ default: 8 * 3600, minimum: 60, description: 'login session lifetime, seconds' }),
  }),
  dataDir: Type.String({ default: './data', description: 'embedded store and spool directory' }),
  registry: Type.String({ default: 'examples/registry.yaml', description: 'registry file (jurisdictions, enterprises, gateways, sensors, users)' }),
  influx: Type.Object({
    url: Type.String({ default: '', description: 'InfluxDB base URL; empty = embedded store' }),
    database: Type.String({ default: 'hazardwatch', minLength: 1, description: 'InfluxDB 1.x database (or DBRP-mapped name on 2.x/3.x)' }),
    retentionPolicy: Type.String({ default: '', description: 'InfluxDB 1.x retention policy; empty = default' }),
    org: Type.String({ default: '', description: 'InfluxDB 2.x organisation' }),
    bucket: Type.String({ default: '', description: 'InfluxDB 2.x bucket; empty = database/retentionPolicy' }),
    token: Type.String({ default: '', description: 'InfluxDB 2.x/3.x API token (secret, never logged)' }),
    username: Type.String({ default: '', description: 'InfluxDB 1.x user' }),
    password: Type.String({ default: '', description: 'InfluxDB 1.x password (secret, never logged)' }),
    timeoutMs: Type.Integer({ default: 10_000, minimum: 100, description: 'HTTP timeout per InfluxDB request, ms' }),
  }),
  ingest: Type.Object({
    batchMaxReadings: Type.Integer({ default: 5000, minimum: 1, description: 'readings per store write' }),
    flushIntervalMs: Type.Integer({ default: 50, minimum: 1, description: 'longest a reading waits before a store write, ms' }),
    maxReadingsPerMessage: Type.Integer({ default: 1000, minimum: 1, description: 'readings allowed in one MQTT message' }),
    maxFutureSkewMs: Type.Integer({ default: 5 * 60_000, minimum: 0, description: 'how far ahead of the server clock a timestamp may be, ms' }),
    maxAgeMs: Type.Integer({ default: 7 * 24 * 3600_000, minimum: 1000, description: 'oldest accepted timestamp, ms before now' }),
    writeConcurrency: Type.Integer({ default: 2, minimum: 1, maximum: 16, description: 'store writes in flight at once' }),
    ackMaxPendingReadings: Type.Integer({ default: 50_000, minimum: 1, description: 'while the store answers but is this many readings behind, PUBACKs wait (flow control; an outage goes to the spool instead)' }),
    memoryMaxReadings: Type.Integer({ default: 200_000, minimum: 1, description: 'readings held in memory before shipping from the spool files' }),
    spoolMaxBytes: Type.Integer({ default: 1024 ** 3, minimum: 1024, description: 'spool size at which acknowledgements are withheld, bytes' }),
    spoolSegmentMaxReadings: Type.Integer({ default: 50_000, minimum: 1, description: 'readings per spool segment file' }),
    spoolSegmentMaxMs: Type.Integer({ default: 2000, minimum: 10, description: 'age at which a spool segment is closed, ms' }),
    spoolFsyncIntervalMs: Type.Integer({ default: 200, minimum: 1, description: 'fdatasync interval of the open spool segment, ms' }),
  }),
  simulate: Type.Object({
    enabled: Type.Boolean({ default: true, description: 'run simulated gateways for the registry in `all` mode' }),
    intervalMs: Type.Integer({ default: 2000, minimum: 10, description: 'simulated reading interval per sensor, ms' }),
    incidentEveryS: Type.Integer({ default: 45, minimum: 0, description: 'seconds between simulated incidents (0 = none)' }),
    credentials: Type.String({ default: 'examples/demo-credentials.yaml', description: 'demo gateway secrets for the simulators' }),
  }),
  service: Type.Object({
    username: Type.String({ default: 'svc', description: 'MQTT username internal services use' }),
    password: Type.String({ default: '', description: 'MQTT password for internal services (secret); empty = generated per run in `all` mode' }),
    brokerUrl: Type.String({ default: '', description: 'broker URL for separately run services, e.g. mqtt://127.0.0.1:1883' }),
    healthReportMs: Type.Integer({ default: 5000, minimum: 100, maximum: 600_000, description: 'separately run services publish their health this often, ms; the API marks one down after 3 missed reports' }),
    httpPort: Type.Integer({ default: -1, minimum: -1, maximum: 65535, description: 'a split broker, ingest or rules service serves /metrics and /healthz on this port (-1 = off, 0 = any free port; on HW_HTTP_HOST)' }),
    instance: Type.String({ default: '', maxLength: 100, description: 'this process\'s name among the replicas of its service (its consumer name on the streams, at most 40 characters used; keep it across restarts); empty = the host name. Rules workers are named by --worker k/N' }),
  }),
  streams: Type.Object({
    redisUrl: Type.String({ default: '', description: 'redis://host:port of the Redis that carries the pipeline between separately run services (required for them; the all-in-one does not use it)' }),
    partitions: Type.Integer({ default: 8, minimum: 1, maximum: 1024, description: 'partitions of each stream (by enterprise); every service must use the same number, and changing it needs drained streams' }),
    maxBacklog: Type.Integer({ default: 20_000, minimum: 1, description: 'unconsumed entries (up to 50 gateway messages each) one partition of the gateway stream may hold before the broker withholds PUBACKs' }),
    claimIdleMs: Type.Integer({ default: 30_000, minimum: 100, description: 'a worker\'s unacknowledged entries are taken over by another after this long, ms' }),
  }),
  logLevel: Type.Union([Type.Literal('fatal'), Type.Literal('error'), Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug'), Type.Literal('trace'), Type.Literal('silent')], { default: 'info' }),
});

export type Config = Static<typeof ConfigSchema>;

/** Deep partial, for overrides passed in code (tests, CLI flags). */
export type ConfigOverrides = { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> : Config[K] };

const toSnake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
export const envName = (path: string[]) => `HW_${path.map(toSnake).join('_')}`;

/** Every leaf of the schema: its path and env variable name. */
export function configLeaves(schema: TObject = ConfigSchema, prefix: string[] = []): { path: string[]; env: string; schema: TSchema }[] {
  const out: { path: string[]; env: string; schema: TSchema }[] = [];
  for (const [key, sub] of Object.entries(schema.properties)) {
    const path = [...prefix, key];
    if ((sub as TSchema).type === 'object') out.push(...configLeaves(sub as TObject, path));
    else out.push({ path, env: envName(path), schema: sub as TSchema });
  }
  return out;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown) {
  let cur = obj;
  for (const k of path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  cur[path[path.length - 1]!] = value;
}

function coerce(raw: string, schema: TSchema): unknown {
  if (schema.type === 'integer' || schema.type === 'number') return raw.trim() === '' ? raw : Number(raw);
  if (schema.type === 'boolean') return raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : raw;
  return raw;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = v && typeof v === 'object' && !Array.isArray(v) ? deepMerge((out[k] ?? {}) as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}

/** Environment first, then code overrides on top; throws one HwError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Readonly<Config> {
  const fromEnv: Record<string, unknown> = {};
  const leaves = configLeaves();
  for (const leaf of leaves) {
    const raw = env[leaf.env];
    if (raw !== undefined) setPath(fromEnv, leaf.path, coerce(raw, leaf.schema));
  }
  const merged = deepMerge(fromEnv, overrides as Record<string, unknown>);
  // Value.Default fills leaves only inside objects that exist: make every section exist.
  for (const leaf of leaves) {
    let cur = merged;
    for (const k of leaf.path.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  }
  const withDefaults = Value.Default(ConfigSchema, merged) as Config;
  const problems = [...Value.Errors(ConfigSchema, withDefaults)].map((e) => {
    const path = e.path.split('/').filter(Boolean);
    const value = JSON.stringify(e.value);
    return `${envName(path)} (${path.join('.')}) = ${value}: ${e.message}`;
  });
  const known = new Set(leaves.map((l) => l.env));
  for (const k of Object.keys(env)) if (k.startsWith('HW_') && !known.has(k)) problems.push(`${k}: unknown setting (known: see README "Configuration")`);
  if (problems.length) throw new HwError('HW_ERR_CONFIG', '\n  ' + problems.join('\n  '));
  return deepFreeze(withDefaults);
}
