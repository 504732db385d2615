import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type TestRedis } from './redis.ts';
import { spawnAll, spawnHw, type SpawnedAll, type SpawnedHw } from './spawn-all.ts';

/** The two deployments built from one wiring table (cli/compose.ts, cli/wiring.ts). */
export type TopologyName = 'all' | 'services';
export const TOPOLOGIES: readonly TopologyName[] = ['all', 'services'];

/** A running topology as a gateway and a browser see it. Ports are getters: a restart may move them. */
export interface RunningTopology {
  name: TopologyName;
  readonly mqttPort: number;
  readonly httpPort: number;
  /** Restart the process that serves the API (the whole all-in-one; only `hazardwatch api` when split). */
  restartApi(): Promise<void>;
  /** Stop every process in reverse start order; each must exit 0. Returns the exit codes. */
  stop(): Promise<(number | null)[]>;
}

export interface TopologyOptions {
  influxUrl: string;
  database: string;
  /** Extra environment for every process. */
  env?: Record<string, string>;
}

/** `hazardwatch all`: every part in one process, against a real influxd. */
async function startAllInOne(o: TopologyOptions): Promise<RunningTopology> {
  // A data dir of our own, so a restart finds the spool it left behind.
  const dataDir = mkdtempSync(join(tmpdir(), 'hw-topo-all-'));
  const env = { HW_INFLUX_URL: o.influxUrl, HW_INFLUX_DATABASE: o.database, HW_INGEST_FLUSH_INTERVAL_MS: '50', HW_DATA_DIR: dataDir, ...o.env };
  let hw: SpawnedAll = await spawnAll(env);
  return {
    name: 'all',
    get mqttPort() { return hw.mqttPort; },
    get httpPort() { return hw.httpPort; },
    async restartApi() {
      const code = await hw.stop();
      if (code !== 0) throw new Error(`hazardwatch all exited with ${code} on SIGTERM`);
      hw = await spawnAll(env);
    },
    async stop() {
      const codes = [await hw.stop()];
      rmSync(dataDir, { recursive: true, force: true });
      return codes;
    },
  };
}

/** The split topology's processes, by kind (drills kill and restart them). */
export interface ServiceProcesses {
  redis: TestRedis;
  /** The first broker node (the one the services' MQTT connection goes to). */
  broker: SpawnedHw;
  /** Every broker node; with more than one, an Aedes cluster over the same Redis. */
  brokers: SpawnedHw[];
  ingest: SpawnedHw[];
  rules: SpawnedHw[];
  api: SpawnedHw[];
  /** The environment every service got (Redis, broker URL, store). */
  env: Record<string, string>;
  /** Starts a service again as it was started (same instance name, same data directory). */
  restart(kind: 'ingest' | 'rules' | 'api', index: number): Promise<SpawnedHw>;
}

export interface ServicesOptions extends TopologyOptions {
  /**
   * Broker nodes (default 1). With 2 or more they form one Aedes cluster through the
   * same Redis (HW_MQTT_REDIS_URL: mqemitter-redis, aedes-persistence-redis, client id
   * claims) and each appends its gateways' messages to the same streams.
   */
  brokers?: number;
  ingestWorkers?: number;
  rulesWorkers?: number;
  apiReplicas?: number;
  /** Node flags for every hazardwatch process (the benchmark's `--cpu-prof`). */
  nodeArgs?: string[];
}

export interface RunningServices extends RunningTopology {
  processes: ServiceProcesses;
}

/**
 * The deployment topology of docker-compose.yml as real processes around a real
 * redis-server (AOF on): a broker, ingest workers (one consumer group, 2 by default),
 * rules workers (each owning its share of the partitions, 2 by default) and API replicas (1).
 */
export async function startServices(o: ServicesOptions): Promise<RunningServices> {
  const redis = await startRedis({ aof: 'everysec' });
  const dataDir = mkdtempSync(join(tmpdir(), 'hw-topo-svc-'));
  const common: Record<string, string> = {
    HW_SERVICE_PASSWORD: 'svc-test-secret', HW_INFLUX_URL: o.influxUrl, HW_INFLUX_DATABASE: o.database, HW_INGEST_FLUSH_INTERVAL_MS: '50', HW_SERVICE_HEALTH_REPORT_MS: '500',
    HW_STREAMS_REDIS_URL: redis.url, HW_DATA_DIR: dataDir, ...o.env,
  };
  const all: SpawnedHw[] = [];
  const spawned = async (args: string[], env: Record<string, string>) => {
    const p = await spawnHw(args, env, o.nodeArgs);
    all.push(p);
    return p;
  };
  try {
    const B = o.brokers ?? 1;
    const brokerEnv = B > 1 ? { ...common, HW_MQTT_REDIS_URL: redis.url } : common;
    const brokers = await Promise.all(Array.from({ length: B }, () => spawned(['broker'], brokerEnv)));
    const broker = brokers[0]!;
    const env = { ...common, HW_SERVICE_BROKER_URL: `mqtt://127.0.0.1:${broker.ready.mqttPort as number}` };
    const R = o.rulesWorkers ?? 2;
    const I = o.ingestWorkers ?? 2;
    // How each service is started, so a drill can start it again the same way.
    const how = {
      rules: (k: number) => [['rules', '--worker', `${k}/${R}`], { ...env, HW_SERVICE_INSTANCE: `rules${k}` }] as const,
      // Each ingest worker has a spool of its own (its data directory).
      ingest: (k: number) => [['ingest'], { ...env, HW_SERVICE_INSTANCE: `ingest${k}`, HW_DATA_DIR: join(dataDir, `ingest${k}`) }] as const,
      api: (k: number) => [['api'], { ...env, HW_SERVICE_INSTANCE: `api${k}` }] as const,
    };
    const start = (kind: keyof typeof how, k: number) => spawned([...how[kind](k)[0]], how[kind](k)[1]);
    // Start order of cli/wiring.ts (rules → ingest → api), the broker first here because ingest sends gateways' err messages through it.
    const rules = await Promise.all(Array.from({ length: R }, (_, k) => start('rules', k)));
    const ingest = await Promise.all(Array.from({ length: I }, (_, k) => start('ingest', k)));
    const api: SpawnedHw[] = [];
    for (let k = 0; k < (o.apiReplicas ?? 1); k++) api.push(await start('api', k));
    const processes: ServiceProcesses = {
      redis, broker, brokers, ingest, rules, api, env,
      async restart(kind, index) {
        const list = processes[kind];
        const old = list[index]!;
        if (old.child.exitCode === null && old.child.signalCode === null) await old.stop();
        all.splice(all.indexOf(old), 1);
        list[index] = await start(kind, index);
        return list[index]!;
      },
    };
    return {
      name: 'services',
      processes,
      get mqttPort() { return broker.ready.mqttPort as number; },
      get httpPort() { return processes.api[0]!.ready.httpPort as number; },
      async restartApi() {
        const code = await processes.api[0]!.stop();
        if (code !== 0) throw new Error(`hazardwatch api exited with ${code} on SIGTERM`);
        await processes.restart('api', 0);
      },
      async stop() {
        const codes: (number | null)[] = [];
        // Reverse start order: api, ingest, rules, brokers.
        for (const p of [...processes.api, ...processes.ingest, ...processes.rules, ...brokers]) codes.push(await p.stop());
        all.length = 0;
        await redis.stop();
        rmSync(dataDir, { recursive: true, force: true });
        return codes;
      },
    };
  } catch (err) {
    for (const p of all.reverse()) await p.stop('SIGKILL');
    await redis.stop();
    throw err;
  }
}

/** Start a topology by name, on free ports. */
export function startTopology(name: TopologyName, o: TopologyOptions): Promise<RunningTopology> {
  return name === 'all' ? startAllInOne(o) : startServices(o);
}
