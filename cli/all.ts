import type { Config } from '../core/src/config.ts';
import type { Logger } from '../core/src/logger.ts';
import { composeAll, type RunningAll } from './compose.ts';

export type { RunningAll };

/** Every part in one process: broker, ingest, rules, API + dashboard, simulated gateways (cli/compose.ts). */
export function startAll(config: Readonly<Config>, logger: Logger): Promise<RunningAll> {
  return composeAll(config, logger);
}
