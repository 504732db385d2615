import type { Reading } from '../../core/src/types.ts';
import type { IngestState } from './ingest-state.ts';
import type { Shipper } from './shipper.ts';

/**
 * Take checked readings: append them to the spool (throws if the spool cannot, and then
 * nothing is taken), keep them in memory for the fast path unless the store is behind,
 * tell the listeners, and ship once a batch is full.
 */
export function accept(s: IngestState, shipper: Pick<Shipper, 'ship' | 'schedule'>, readings: Reading[], lines?: string): void {
  const { config, log, metrics: m } = s;
  const live = !s.behind && s.memReadings + readings.length <= config.memoryMaxReadings;
  const seg = s.spool.append(readings, live, lines);
  if (live) {
    s.mem.push({ seq: seg.seq, readings });
    s.memReadings += readings.length;
  } else {
    if (!s.behind) log.warn({ memoryMaxReadings: config.memoryMaxReadings }, 'store is behind: shipping from the spool files');
    s.behind = true;
    s.spoolBacklog += readings.length;
    m.ingestSpooled.inc(readings.length);
  }
  m.ingestAccepted.inc(readings.length);
  try {
    s.deps.onAccepted?.(readings);
  } catch (err) {
    // A listener's failure (rules, API) must not undo a durable acceptance.
    log.error({ err }, 'a listener failed on accepted readings');
  }
  if (s.memReadings >= config.batchMaxReadings) void shipper.ship().catch(() => {});
  else shipper.schedule();
}
