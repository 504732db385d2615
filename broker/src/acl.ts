import { parseGatewayTopic } from '../../core/src/topics.ts';

/** Who a connected MQTT client is, once authenticated. */
export type Identity =
  | { kind: 'gateway'; enterpriseId: string; gatewayId: string }
  | { kind: 'service'; name: string };

/**
 * DESIGN.md "MQTT interface": a gateway publishes only under its own
 * hw/v1/{enterprise}/{gateway}/ (up, status) and subscribes only to its own down/# and err.
 * Services may do anything. Returns a reason when refused, undefined when allowed.
 */
export function checkPublish(id: Identity, topic: string): string | undefined {
  if (id.kind === 'service') return undefined;
  const t = parseGatewayTopic(topic);
  if (!t || t.enterpriseId !== id.enterpriseId || t.gatewayId !== id.gatewayId) return `publish to ${topic} outside own hw/v1/${id.enterpriseId}/${id.gatewayId}/`;
  if ((t.channel !== 'up' && t.channel !== 'status') || t.rest.length) return `publish to ${topic}: gateways publish only to up and status`;
  return undefined;
}

export function checkSubscribe(id: Identity, filter: string): string | undefined {
  if (id.kind === 'service') return undefined;
  const own = `hw/v1/${id.enterpriseId}/${id.gatewayId}/`;
  if (!filter.startsWith(own)) return `subscribe to ${filter} outside own ${own}`;
  const rest = filter.slice(own.length);
  // Wildcards only inside down/: `+` or `#` elsewhere could reach other channels.
  if (rest === 'err' || rest === 'down' || (rest.startsWith('down/') && !rest.slice(5).split('/').some((l) => l === '' ))) return undefined;
  return `subscribe to ${filter}: gateways subscribe only to their down/# and err`;
}
