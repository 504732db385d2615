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
} as const;

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
