import type { Aedes } from 'aedes';
import type { BrokerCounters } from './broker-types.ts';

/** How often the counters are published, ms (Aedes' own $SYS heartbeat is 60 s). */
const SYS_EVERY_MS = 10_000;

/** hazardwatch's own counters next to Aedes' $SYS heartbeat; returns the stop. */
export function publishSysStats(aedes: Aedes, counters: BrokerCounters): () => void {
  const timer = setInterval(() => {
    aedes.publish({ cmd: 'publish', topic: '$SYS/hazardwatch/broker', payload: Buffer.from(JSON.stringify({ ...counters, ts: Date.now() })), qos: 0, retain: true, dup: false }, () => {});
  }, SYS_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
