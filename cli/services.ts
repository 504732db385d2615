import { existsSync } from 'node:fs';
import { loadCatalogue } from '../core/src/agents.ts';
import type { Config } from '../core/src/config.ts';
import { HwError } from '../core/src/errors.ts';
import type { Logger } from '../core/src/logger.ts';
import { loadRegistryFile, RegistryHolder } from '../core/src/registry.ts';
import { parseWorkerShare } from '../core/src/worker-share.ts';
import { composeService, type Running } from './compose.ts';
import { reloadRegistryOnSighup } from './registry-reload.ts';

export type { Running };

/** `hazardwatch broker`: the MQTT broker alone (several share state through HW_MQTT_REDIS_URL). */
export const runBroker = (config: Readonly<Config>, logger: Logger): Promise<Running> => composeService('broker', config, logger);

/** `hazardwatch ingest`: one of any number of workers that store gateway messages from Redis and forward the accepted readings. */
export const runIngest = (config: Readonly<Config>, logger: Logger): Promise<Running> => composeService('ingest', config, logger);

/**
 * `hazardwatch rules [--worker k/N]`: evaluates readings, rejections and presence of the
 * partitions it owns (all without --worker); publishes alert events and live insights; answers commands.
 */
export function runRules(config: Readonly<Config>, logger: Logger, args: string[] = []): Promise<Running> {
  const spec = flag(args, '--worker');
  if (args.includes('--worker') && !spec) throw new HwError('HW_ERR_CONFIG', '--worker needs k/N');
  return composeService('rules', config, logger, { worker: spec ? parseWorkerShare(spec) : undefined });
}

/** `hazardwatch api`: the API and dashboard, fed by the rules service's events. */
export const runApi = (config: Readonly<Config>, logger: Logger): Promise<Running> => composeService('api', config, logger);

const flag = (args: string[], name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

/**
 * `hazardwatch simulate [--url mqtt://host:port] [--credentials file] [--faults dropout=0.01,...]
 *  [--interval ms] [--duration s]`: the registry's gateways, simulated.
 * `hazardwatch simulate generate --gateways N --sensors M --out DIR`: a registry and credentials for load tests.
 */
export async function runSimulate(config: Readonly<Config>, logger: Logger, args: string[]): Promise<Running> {
  if (args[0] === 'generate') {
    const { generateRegistry } = await import('../simulators/src/generate.ts');
    const gateways = Number(flag(args, '--gateways') ?? 100);
    const sensors = Number(flag(args, '--sensors') ?? 10);
    const outDir = flag(args, '--out') ?? 'data/sim';
    if (!(gateways >= 1 && sensors >= 1)) throw new HwError('HW_ERR_CONFIG', '--gateways and --sensors must be positive integers');
    const out = await generateRegistry({ gateways, sensors, outDir });
    process.stderr.write(`wrote ${out.registry} and ${out.credentials}\nrun: HW_REGISTRY=${out.registry} HW_SIMULATE_ENABLED=false npm start\nthen: HW_REGISTRY=${out.registry} npx hazardwatch simulate --credentials ${out.credentials}\n`);
    return { describe: { service: 'simulate generate', ...out }, stop: async () => {}, done: true };
  }
  const [{ createFleet, readCredentials }, { parseFaults }] = await Promise.all([import('../simulators/src/fleet.ts'), import('../simulators/src/faults.ts')]);
  const catalogue = loadCatalogue();
  const registry = new RegistryHolder(loadRegistryFile(config.registry, catalogue), () => loadRegistryFile(config.registry, catalogue));
  const stopReloading = reloadRegistryOnSighup(registry, logger);
  const url = flag(args, '--url') ?? `mqtt://127.0.0.1:${config.mqtt.port}`;
  const credentialsPath = flag(args, '--credentials') ?? config.simulate.credentials;
  if (!existsSync(credentialsPath)) throw new HwError('HW_ERR_CONFIG', `simulator credentials ${credentialsPath} not found (--credentials or HW_SIMULATE_CREDENTIALS)`);
  const fleet = createFleet(registry.current, readCredentials(credentialsPath), catalogue, logger, {
    url,
    intervalMs: Number(flag(args, '--interval') ?? config.simulate.intervalMs),
    incidentEveryS: config.simulate.incidentEveryS,
    faults: flag(args, '--faults') ? parseFaults(flag(args, '--faults')!) : undefined,
    progress: process.stderr,
  });
  await fleet.start();
  const durationS = Number(flag(args, '--duration') ?? 0);
  if (durationS > 0) setTimeout(() => process.kill(process.pid, 'SIGTERM'), durationS * 1000).unref();
  return {
    describe: { service: 'simulate', url, gateways: fleet.sims.length },
    stop: async () => {
      stopReloading();
      await fleet.stop();
    },
  };
}
