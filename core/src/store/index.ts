import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { createInfluxStore } from './influx-store.ts';
import { createSqliteStore } from './sqlite-store.ts';
import type { Store } from './store.ts';

export type { Store } from './store.ts';

/** InfluxDB when HW_INFLUX_URL is set, otherwise the embedded store under HW_DATA_DIR. */
export function createStore(config: Readonly<Config>, logger: Logger): Store {
  return config.influx.url ? createInfluxStore(config.influx, logger) : createSqliteStore(config.dataDir, logger);
}
