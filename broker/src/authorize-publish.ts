import type { AedesOptions } from 'aedes';
import { gatewayKey } from '../../core/src/registry.ts';
import { parseGatewayTopic, topics } from '../../core/src/topics.ts';
import { checkPublish } from './acl.ts';
import type { BrokerState } from './broker-state.ts';
import { messageRejection } from './gateway-errors.ts';

/**
 * Aedes' authorizePublish: the ACL (acl.ts), the per-gateway message rate, the payload size
 * limit, the retain flag of `up`, and the beforeAck hook that holds the PUBACK until ingest
 * has the message.
 */
export function createAuthorizePublish(s: BrokerState): NonNullable<AedesOptions['authorizePublish']> {
  const { config, deps, log, refuse } = s;
  return function authorizePublish(client, packet, done) {
    if (!client) return done(null); // published by the broker itself (internal services in-process)
    const id = s.identities.get(client);
    if (!id) return done(new Error('not authenticated'));
    // MQTT 3.1.1 has no negative PUBACK: a refused publish closes the connection (MQTT-3.3.5-2).
    if (packet.topic.startsWith('$SYS')) {
      refuse('acl_publish');
      return done(new Error('$SYS is reserved'));
    }
    const why = checkPublish(id, packet.topic);
    if (why) {
      refuse('acl_publish');
      log.warn({ clientId: client.id, topic: packet.topic }, why);
      return done(new Error(why));
    }
    if (id.kind === 'gateway' && !s.limiter.take(gatewayKey(id.enterpriseId, id.gatewayId))) {
      // Closing (rather than dropping) keeps the QoS 1 message with the gateway, which resends it.
      refuse('rate_limited');
      log.warn({ clientId: client.id, rate: config.ratePerGatewayPerS }, 'publish refused: gateway over its message rate');
      return done(new Error('message rate exceeded'));
    }
    const t = id.kind === 'gateway' ? parseGatewayTopic(packet.topic) : undefined;
    // The limit guards against gateways; internal services (authenticated by the service
    // secret) forward accepted readings in batches that may be larger than any one gateway
    // message, and refusing one would only close their connection and stall the pipeline.
    if (id.kind === 'gateway' && t && packet.payload.length > config.maxPayloadBytes) {
      // No poison pill: closing the connection (as MQTT 3.1.1 has no negative PUBACK)
      // would make a QoS 1 client resend the same message on every reconnect, forever,
      // with everything queued behind it stalled. Instead the message is acknowledged
      // and turned, in place, into its rejection on the gateway's own err topic: Aedes
      // sends the PUBACK and then publishes this packet, which only err subscribers get.
      refuse('payload_too_large');
      log.warn({ clientId: client.id, topic: packet.topic, bytes: packet.payload.length }, 'publish rejected: payload too large (acknowledged, rejection sent to err)');
      packet.payload = messageRejection(packet.topic, 'HW_ERR_PAYLOAD_TOO_LARGE', `${packet.payload.length} bytes > ${config.maxPayloadBytes}`);
      packet.topic = topics.err(t.enterpriseId, t.gatewayId);
      packet.retain = false;
      return done(null);
    }
    // A retained `up` would be replayed to every new subscriber (an ingest worker that
    // restarts would store it again) and kept by the broker: the flag is stripped.
    if (t?.channel === 'up' && packet.retain) {
      refuse('retain_stripped');
      packet.retain = false;
    }
    s.counters.published++;
    const held = id.kind === 'gateway' && t?.channel === 'up' ? deps.beforeAck?.(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload), id.enterpriseId) : undefined;
    // Not held (spool or stream full, Redis down): no PUBACK; the gateway keeps the message and sends it again.
    if (held) {
      held.then(() => done(null), (err: Error & { code?: string }) => {
        refuse(err.code === 'HW_ERR_BACKLOG_FULL' ? 'backlog_full' : 'not_stored');
        done(err);
      });
    } else done(null);
  };
}
