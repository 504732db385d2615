import type { PipelineCommand, PipelineEvent } from '../core/src/pipeline-events.ts';

/** The units a topology is built from (cli/compose.ts). */
export type UnitName = 'broker' | 'ingest' | 'rules' | 'api';
export type Topology = 'all' | 'services';

/** Start order: the broker last, so no gateway is acknowledged before its readings have somewhere to go. Stop in reverse. */
export const START_ORDER: readonly UnitName[] = ['rules', 'ingest', 'api', 'broker'];

export interface Edge {
  producers: readonly UnitName[];
  consumers: readonly UnitName[];
  /** Where the edge is an event. Elsewhere `direct` says what stands in for it. */
  topologies: readonly Topology[];
  direct?: string;
  /**
   * Consumers of which every replica gets every event (the API's live view). The others
   * share the work: each event goes to one replica (ingest workers of one consumer group)
   * or to the one that owns its partition (rules workers).
   */
  everyReplica?: readonly UnitName[];
}

/**
 * Every edge of the pipeline, once, for both topologies: who publishes each event and
 * who consumes it. compose.ts subscribes each consumer from this table, and refuses to
 * build a unit whose handlers do not match it; cli/test/wiring.test.ts fails when an
 * event has no consumer (or no producer) in a topology.
 */
export const WIRING: { [K in PipelineEvent | PipelineCommand]: Edge } = {
  'gateway.up': { producers: ['broker'], consumers: ['ingest'], topologies: ['all', 'services'] },
  'readings.accepted': { producers: ['ingest'], consumers: ['rules', 'api'], topologies: ['all', 'services'], everyReplica: ['api'] },
  'readings.rejected': { producers: ['ingest'], consumers: ['rules'], topologies: ['all', 'services'] },
  'gateway.presence': { producers: ['broker'], consumers: ['rules'], topologies: ['all', 'services'] },
  'alert.event': { producers: ['rules'], consumers: ['api'], topologies: ['all', 'services'], everyReplica: ['api'] },
  'alert.command': { producers: ['api'], consumers: ['rules'], topologies: ['all', 'services'] },
  'service.health': {
    producers: ['broker', 'ingest', 'rules'], consumers: ['api'], topologies: ['services'], everyReplica: ['api'],
    direct: 'in one process the API runs each component\'s health check itself (cli/service-health.ts inProcessHealth)',
  },
  'insights.live': {
    producers: ['rules'], consumers: ['api'], topologies: ['services'], everyReplica: ['api'],
    direct: 'in one process the API reads the rules engine\'s grades and exposure directly (the same Insights interface)',
  },
};

/** The events and commands a unit consumes in a topology, from the table. */
export function consumedBy(unit: UnitName, topology: Topology): (PipelineEvent | PipelineCommand)[] {
  return (Object.keys(WIRING) as (PipelineEvent | PipelineCommand)[]).filter((k) => WIRING[k].topologies.includes(topology) && WIRING[k].consumers.includes(unit));
}
