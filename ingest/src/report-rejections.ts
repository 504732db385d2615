import { errMessage } from '../../core/src/err-message.ts';
import type { Rejection } from '../../core/src/errors.ts';
import { topics } from '../../core/src/topics.ts';
import type { IngestState } from './ingest-state.ts';
import { unexpected } from './unexpected-error.ts';

/** A gateway's rejections are logged at most this often per error code, ms. */
const LOG_EVERY_MS = 60_000;

/**
 * Rejections go to the rules engine, the metrics, the log and the gateway's err topic; a
 * failure here never undoes an acceptance.
 */
export function createRejectionReport(s: IngestState) {
  const { deps, log, now, metrics: m } = s;
  const lastLogged = new Map<string, number>();

  const logRejections = (gateway: string, rejected: Rejection[]) => {
    for (const r of rejected) {
      const key = `${gateway}\0${r.code}`;
      const t = now();
      if ((lastLogged.get(key) ?? 0) + LOG_EVERY_MS > t) continue;
      lastLogged.set(key, t);
      log.warn({ gateway, code: r.code, reason: r.message }, 'reading rejected (logged at most once a minute per gateway and code)');
    }
  };

  return function report(topic: string, t: { enterpriseId: string; gatewayId: string }, received: number, accepted: number, rejected: Rejection[]): void {
    try {
      for (const r of rejected) m.ingestRejected.inc({ code: r.code });
      logRejections(`${t.enterpriseId}/${t.gatewayId}`, rejected);
      deps.bus.publish(topics.err(t.enterpriseId, t.gatewayId), errMessage(topic, received, accepted, rejected)).catch((err: Error) => log.warn({ err: err.message }, 'could not publish err'));
    } catch (err) {
      unexpected(s, 'report', err, topic);
    }
    try {
      deps.onRejected?.(rejected, now(), t.enterpriseId);
    } catch (err) {
      log.error({ err }, 'a listener failed on rejected readings');
    }
  };
}

export type RejectionReport = ReturnType<typeof createRejectionReport>;
