/**
 * The distributed topology as `npm run bench` measures it: the deployment of
 * docker-compose.yml as real processes on this host (test/topologies.ts startServices,
 * the same start-up the pipeline tests use): redis-server with AOF (`appendfsync
 * everysec`), one broker, two ingest workers (one consumer group, a spool each), two rules
 * workers (`--worker 0/2`, `1/2`), one API, all against the benchmark's influxd.
 */
import { startServices } from '../test/topologies.ts';
import type { Charged } from './proc-stats.ts';

export interface DistUnderTest {
  mqttPort: number;
  /** Every process whose CPU is charged to the topology: the hazardwatch ones, redis-server and influxd. */
  charged: Charged[];
  /** The hazardwatch processes only (their RSS is the topology's memory figure). */
  hwPids: number[];
  /** Readings the rules workers did not evaluate because a newer one of the sensor came first (hw_rules_out_of_order_total, summed). */
  rulesOutOfOrder(): Promise<number>;
  /** Stops the services in reverse start order and redis-server; the exit codes of the services. */
  stop(): Promise<(number | null)[]>;
}

export interface DistOptions {
  influxUrl: string;
  /** influxd's pid, charged with the rest (it is shared with the all-in-one's phases, run before). */
  influxPid: number | undefined;
  database: string;
  registryPath: string;
  /** Node flags for every service (`--cpu-prof …` with `npm run bench -- --profile`). */
  nodeArgs?: string[];
}

export async function startDistributed(o: DistOptions): Promise<DistUnderTest> {
  const svc = await startServices({
    influxUrl: o.influxUrl, database: o.database, ingestWorkers: 2, rulesWorkers: 2, apiReplicas: 1, nodeArgs: o.nodeArgs,
    env: {
      HW_REGISTRY: o.registryPath, HW_LOG_LEVEL: 'warn', HW_SERVICE_PASSWORD: 'bench-dist-secret',
      // As the all-in-one's phases: the load generator's 20 connections each send far more than a real gateway.
      HW_MQTT_RATE_PER_GATEWAY_PER_S: '0',
      // The default (5 s), not the tests' 500 ms: health reports are not part of the load.
      HW_SERVICE_HEALTH_REPORT_MS: '5000',
      // /metrics of the broker, ingest and rules processes (rulesOutOfOrder reads it).
      HW_SERVICE_HTTP_PORT: '0',
    },
  });
  const p = svc.processes;
  const named: Charged[] = [
    { name: 'broker', pid: p.broker.child.pid! },
    ...p.ingest.map((x, k) => ({ name: `ingest${k}`, pid: x.child.pid! })),
    ...p.rules.map((x, k) => ({ name: `rules${k}`, pid: x.child.pid! })),
    ...p.api.map((x, k) => ({ name: `api${k}`, pid: x.child.pid! })),
  ];
  const charged = [...named, { name: 'redis-server', pid: p.redis.pid! }, ...(o.influxPid ? [{ name: 'influxd', pid: o.influxPid }] : [])];
  const rulesOutOfOrder = async () => {
    let n = 0;
    for (const r of p.rules) {
      const text = await (await fetch(`http://127.0.0.1:${r.ready.servicePort as number}/metrics`)).text();
      n += Number(/^hw_rules_out_of_order_total (\S+)$/m.exec(text)?.[1] ?? NaN);
    }
    return n;
  };
  return { mqttPort: svc.mqttPort, charged, hwPids: named.map((n) => n.pid), rulesOutOfOrder, stop: () => svc.stop() };
}
