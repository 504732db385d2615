import type { Logger } from '../core/src/logger.ts';
import type { RegistryHolder } from '../core/src/registry.ts';

/**
 * `kill -HUP` reloads the registry file, in the all-in-one and in every separate service
 * alike. A file that is refused (unreadable, invalid YAML, failing validation) never stops
 * the process: the registry in force stays, and the reason is logged. Returns the
 * function that removes the handler (for a clean stop).
 */
export function reloadRegistryOnSighup(registry: RegistryHolder, logger: Logger): () => void {
  const onHup = () => {
    registry.reloadOrKeep(logger);
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}
