import type { Broker } from '../broker/src/broker.ts';
import type { Config } from '../core/src/config.ts';
import { rulesHealth, spoolHealth, type HealthCheck } from '../core/src/health.ts';
import type { IngestWorker } from '../ingest/src/ingest-worker.ts';
import type { RulesEngine } from '../rules/src/engine.ts';

/**
 * Health checks of each component from its own signals, shared by the all-in-one (the API
 * asks them directly) and the split services (each publishes its own on the bus).
 */
export const brokerCheck = (broker: Pick<Broker, 'aedes' | 'counters'>): HealthCheck => () => ({ ok: !broker.aedes.closed, detail: `${broker.counters.connections} connections` });

export function ingestChecks(ingest: Pick<IngestWorker, 'pending' | 'spoolBytes'>, config: Readonly<Config>): Record<'ingest' | 'spool', HealthCheck> {
  return {
    // Above the flow-control bound the worker withholds PUBACKs: readings wait at the gateways.
    ingest: () => {
      const n = ingest.pending();
      const max = config.ingest.ackMaxPendingReadings;
      return { ok: n < max, detail: `${n} readings in memory waiting to be stored${n >= max ? ` (at least ${max}: acknowledgements withheld)` : ''}` };
    },
    spool: () => spoolHealth(ingest.spoolBytes(), config.ingest.spoolMaxBytes),
  };
}

export const rulesCheck = (rules: Pick<RulesEngine, 'status'>, now: () => number = Date.now): HealthCheck => () => rulesHealth(rules.status(), now());

export function inProcessHealth(parts: { broker: Pick<Broker, 'aedes' | 'counters'>; ingest: Pick<IngestWorker, 'pending' | 'spoolBytes'>; rules: Pick<RulesEngine, 'status'>; config: Readonly<Config> }): Record<string, HealthCheck> {
  return { broker: brokerCheck(parts.broker), ...ingestChecks(parts.ingest, parts.config), rules: rulesCheck(parts.rules) };
}
