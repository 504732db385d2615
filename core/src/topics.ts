import type { PipelineCommand, PipelineCommands, PipelineEvent, PipelineEvents } from './pipeline-events.ts';

/**
 * The MQTT contract (DESIGN.md "MQTT interface"): every topic string lives here.
 * Gateways publish to hw/v1/{enterpriseId}/{gatewayId}/up|status and subscribe to
 * .../down/# and .../err.
 */
export const TOPIC_ROOT = 'hw/v1';

export type GatewayChannel = 'up' | 'status' | 'err' | 'down';

export const topics = {
  up: (enterpriseId: string, gatewayId: string) => `${TOPIC_ROOT}/${enterpriseId}/${gatewayId}/up`,
  status: (enterpriseId: string, gatewayId: string) => `${TOPIC_ROOT}/${enterpriseId}/${gatewayId}/status`,
  err: (enterpriseId: string, gatewayId: string) => `${TOPIC_ROOT}/${enterpriseId}/${gatewayId}/err`,
  down: (enterpriseId: string, gatewayId: string) => `${TOPIC_ROOT}/${enterpriseId}/${gatewayId}/down`,
  /** Subscription for every gateway's readings (services only). */
  allUp: `${TOPIC_ROOT}/+/+/up`,
  allStatus: `${TOPIC_ROOT}/+/+/status`,
  /** Internal fan-out between separately deployed services (services only). */
  internalReadings: 'hw/internal/readings',
  internalAlerts: 'hw/internal/alerts',
  /** Separately run services' health reports: `hw/internal/health/{service}` (core/src/health.ts). */
  internalHealth: (service: string) => `hw/internal/health/${service}`,
  allHealth: 'hw/internal/health/+',
} as const;

/**
 * The pipeline's events on the MQTT distributed transport (core/src/transport-bus.ts):
 * event → topic, and so → payload type (`InternalPayloads`). Only the service account
 * may publish or subscribe here (broker ACL). A partitioned event goes to
 * `{topic}/{partitionKey}` and is subscribed with `{topic}/+`.
 */
export const internalTopics = {
  'readings.accepted': { topic: topics.internalReadings, qos: 1 },
  'readings.rejected': { topic: 'hw/internal/rejections', qos: 1 },
  'gateway.presence': { topic: 'hw/internal/presence', qos: 1 },
  'alert.event': { topic: topics.internalAlerts, qos: 1 },
  // Health reports are per service (the API keeps the last of each): partitioned by service name.
  'service.health': { topic: 'hw/internal/health', qos: 0, partitioned: true },
  // A newer snapshot replaces a lost one within seconds.
  'insights.live': { topic: 'hw/internal/insights', qos: 0 },
  'alert.command': { topic: `${topics.internalAlerts}/commands`, qos: 1 },
} as const satisfies { [K in PipelineEvent | PipelineCommand]: { topic: string; qos: 0 | 1; partitioned?: boolean } };

/** Replies to a command go to the requester's own topic: `hw/internal/replies/{requester}`. */
export const INTERNAL_REPLIES = 'hw/internal/replies';

/** The MQTT contract of the internal topics: topic → payload type. */
export type InternalPayloads = { [K in keyof typeof internalTopics as (typeof internalTopics)[K]['topic']]: K extends PipelineEvent ? PipelineEvents[K] : K extends PipelineCommand ? PipelineCommands[K]['request'] : never };

export interface GatewayTopic {
  enterpriseId: string;
  gatewayId: string;
  channel: string;
  rest: string[];
}

/** Parse hw/v1/{e}/{g}/{channel}[/...]; undefined when the topic is not a gateway topic. */
export function parseGatewayTopic(topic: string): GatewayTopic | undefined {
  const parts = topic.split('/');
  if (parts.length < 5 || parts[0] !== 'hw' || parts[1] !== 'v1') return undefined;
  const [, , enterpriseId, gatewayId, channel, ...rest] = parts as [string, string, string, string, string, ...string[]];
  if (!enterpriseId || !gatewayId || !channel) return undefined;
  return { enterpriseId, gatewayId, channel, rest };
}
