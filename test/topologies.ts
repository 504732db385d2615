import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

/**
 * The deployment topology of docker-compose.yml as real processes: a broker, two ingest
 * shards, the rules engine and the API, talking over MQTT with service credentials.
 */
async function startServices(o: TopologyOptions): Promise<RunningTopology> {
  const common = { HW_SERVICE_PASSWORD: 'svc-test-secret', HW_INFLUX_URL: o.influxUrl, HW_INFLUX_DATABASE: o.database, HW_INGEST_FLUSH_INTERVAL_MS: '50', HW_SERVICE_HEALTH_REPORT_MS: '500', ...o.env };
  const procs: SpawnedHw[] = [];
  try {
    const broker = await spawnHw(['broker'], common);
    procs.push(broker);
    const env = { ...common, HW_SERVICE_BROKER_URL: `mqtt://127.0.0.1:${broker.ready.mqttPort as number}` };
    // Start order of cli/wiring.ts (rules → ingest → api), the broker first here because the others connect to it.
    procs.push(await spawnHw(['rules'], env));
    procs.push(...(await Promise.all([spawnHw(['ingest', '--shard', '0/2'], env), spawnHw(['ingest', '--shard', '1/2'], env)])));
    let api = await spawnHw(['api'], env);
    procs.push(api);
    return {
      name: 'services',
      get mqttPort() { return broker.ready.mqttPort as number; },
      get httpPort() { return api.ready.httpPort as number; },
      async restartApi() {
        const code = await api.stop();
        if (code !== 0) throw new Error(`hazardwatch api exited with ${code} on SIGTERM`);
        procs.splice(procs.indexOf(api), 1);
        api = await spawnHw(['api'], env);
        procs.push(api);
      },
      async stop() {
        const codes: (number | null)[] = [];
        for (const p of procs.splice(0).reverse()) codes.push(await p.stop());
        return codes;
      },
    };
  } catch (err) {
    for (const p of procs.reverse()) await p.stop('SIGKILL');
    throw err;
  }
}

/** Start a topology by name, on free ports. */
export function startTopology(name: TopologyName, o: TopologyOptions): Promise<RunningTopology> {
  return name === 'all' ? startAllInOne(o) : startServices(o);
}
