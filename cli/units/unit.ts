import type { Catalogue } from '../../core/src/agents.ts';
import type { Config } from '../../core/src/config.ts';
import type { HealthCheck } from '../../core/src/health.ts';
import type { Logger } from '../../core/src/logger.ts';
import type { Metrics } from '../../core/src/metrics.ts';
import type { PipelineCommand, PipelineEvent } from '../../core/src/pipeline-events.ts';
import type { RegistryHolder } from '../../core/src/registry.ts';
import type { CommandHandler, EventHandler, Transport } from '../../core/src/transport.ts';
import type { Topology, UnitName } from '../wiring.ts';

/** What every unit of one process shares. */
export interface UnitContext {
  config: Readonly<Config>;
  logger: Logger;
  topology: Topology;
  registry: RegistryHolder;
  catalogue: Catalogue;
  metrics: Metrics;
  transport: Transport;
}

/** A unit as the composition sees it: its consumers (keyed as in cli/wiring.ts), its lifecycle, its health checks. */
export interface Unit {
  name: UnitName;
  on: { [E in PipelineEvent]?: EventHandler<E> };
  answers: { [C in PipelineCommand]?: CommandHandler<C> };
  /** Health checks this unit reports (published by the split services). */
  checks: Record<string, HealthCheck>;
  /** Before the transport delivers. */
  start(): Promise<void>;
  /** After the transport delivers (the API listens only then). */
  ready?(): Promise<void>;
  stop(): Promise<void>;
  describe: () => Record<string, unknown>;
}
