import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import type { Store } from './store.ts';

export type { Store } from './store.ts';

/**
 * InfluxDB when HW_INFLUX_URL is set, otherwise the embedded store under HW_DATA_DIR; only
 * the module of the store in use is loaded (the other's client library stays out of memory).
 */
export async function createStore(config: Readonly<Config>, logger: Logger): Promise<Store> {
  if (config.influx.url) return (await import('./influx-store.ts')).createInfluxStore(config.influx, logger);
  return (await import('./sqlite-store.ts')).createSqliteStore(config.dataDir, logger);
}
