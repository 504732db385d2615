import { createBroker, type Broker } from '../../broker/src/broker.ts';
import { brokerConfigFrom } from '../../broker/src/broker-config.ts';
import { holdWhileFull } from '../../broker/src/hold-while-full.ts';
import { brokerCheck } from '../service-health.ts';
import type { Unit, UnitContext } from './unit.ts';

export interface BrokerUnit extends Unit { broker: Broker }

/**
 * The broker. A gateway's `up` message goes out as `gateway.up` and its PUBACK waits until
 * the transport holds it (in one process: the ingest spool has it; distributed: Redis
 * does). Gateway presence goes out as `gateway.presence`, except while the broker itself
 * stops (its own shutdown is not every gateway going offline).
 */
export function brokerUnit(ctx: UnitContext): BrokerUnit {
  let stopping = false;
  // A full stream partition (split topology): the PUBACK waits while it drains, counted.
  const deliver = holdWhileFull((topic: string, payload: Buffer, enterpriseId: string) => ctx.transport.deliver('gateway.up', { topic, payload }, enterpriseId), {
    onHeld: () => {
      broker.counters.refused.held_backlog_full = (broker.counters.refused.held_backlog_full ?? 0) + 1;
      ctx.metrics.mqttRefused.inc({ reason: 'held_backlog_full' });
    },
  });
  const broker = createBroker({
    registry: ctx.registry, logger: ctx.logger, metrics: ctx.metrics,
    beforeAck: deliver,
    onPresence: (p) => {
      if (!stopping) ctx.transport.publish('gateway.presence', p, p.enterpriseId);
    },
  }, brokerConfigFrom(ctx.config));
  return {
    name: 'broker', broker, on: {}, answers: {},
    checks: { broker: brokerCheck(broker) },
    start: () => broker.start(),
    async stop() {
      stopping = true;
      await broker.stop();
    },
    describe: () => ({ mqttPort: broker.port(), tlsPort: broker.tlsPort(), wsPort: broker.wsPort(), cluster: Boolean(ctx.config.mqtt.redisUrl) }),
  };
}
