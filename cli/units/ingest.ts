import type { MessageBus } from '../../core/src/bus.ts';
import type { Store } from '../../core/src/store/store.ts';
import { ingestConfigFrom } from '../../ingest/src/ingest-config.ts';
import { createIngestWorker, type IngestWorker } from '../../ingest/src/ingest-worker.ts';
import { ingestChecks } from '../service-health.ts';
import type { Unit, UnitContext } from './unit.ts';

export interface IngestUnit extends Unit { worker: IngestWorker }

/**
 * Ingest: takes `gateway.up` (resolving once the readings are in the spool), sends
 * accepted readings out as `readings.accepted`, refused ones as `readings.rejected`.
 * `bus` carries the gateway's err messages.
 */
export function ingestUnit(ctx: UnitContext & { store: Store }, opts: { bus: MessageBus }): IngestUnit {
  const worker = createIngestWorker({
    registry: ctx.registry, catalogue: ctx.catalogue, store: ctx.store, bus: opts.bus, logger: ctx.logger, metrics: ctx.metrics,
    onAccepted: (rs) => ctx.transport.publish('readings.accepted', rs),
    onRejected: (rejections, ts, enterpriseId) => {
      if (rejections.length) ctx.transport.publish('readings.rejected', { rejections, ts, enterpriseId }, enterpriseId);
    },
  }, ingestConfigFrom(ctx.config));
  return {
    name: 'ingest', worker, answers: {},
    on: { 'gateway.up': (m) => worker.receive(m.topic, m.payload) },
    checks: ingestChecks(worker, ctx.config),
    start: () => worker.start({ subscribe: false }),
    stop: () => worker.stop(),
    describe: () => ({ store: ctx.store.kind }),
  };
}
