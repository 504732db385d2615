import { reject } from '../../core/src/errors.ts';
import { parseGatewayTopic } from '../../core/src/topics.ts';
import type { Reading } from '../../core/src/types.ts';
import type { Backpressure } from './backpressure.ts';
import { checkMessage, type Checked } from './check-message.ts';
import type { IngestState } from './ingest-state.ts';
import type { HandleResult } from './ingest-types.ts';
import type { RejectionReport } from './report-rejections.ts';
import { errorName, unexpected } from './unexpected-error.ts';

export interface MessageSteps {
  /** Appends to the spool with the other messages of this run of the event loop (accept-group.ts). */
  accept: (readings: Reading[]) => Promise<void>;
  backpressure: Pick<Backpressure, 'mustWait' | 'hold'>;
  report: RejectionReport;
}

/**
 * One gateway message: check it (check-message.ts), then accept its good readings now or
 * hold its acknowledgement (backpressure.ts), and report its rejections (report-rejections.ts).
 */
export function createMessageHandler(s: IngestState, steps: MessageSteps) {
  const { accept, backpressure, report } = steps;

  function handle(topic: string, payload: Buffer): HandleResult {
    const t = parseGatewayTopic(topic);
    if (!t || t.channel !== 'up') return { accepted: 0, rejected: [], spooled: undefined };
    let checked: Checked;
    try {
      checked = checkMessage(s, topic, t, payload);
    } catch (err) {
      // Nothing of the message was taken: say so on err. The message is still acknowledged:
      // the same payload would fail the same way, and holding it would stall the gateway.
      unexpected(s, 'message', err, topic);
      const rejected = [reject('HW_ERR_INGEST_INTERNAL', `the message could not be handled (${errorName(err)}); nothing of it is stored`)];
      report(topic, t, 0, 0, rejected);
      return { accepted: 0, rejected, spooled: undefined };
    }
    const { accepted, rejected } = checked;
    let spooled: Promise<void> | undefined;
    if (accepted.length) {
      const wait = backpressure.mustWait();
      // A failed append rejects `spooled`: no PUBACK, so the gateway keeps the message.
      spooled = wait ? backpressure.hold(accepted, wait) : accept(accepted);
    }
    if (rejected.length) report(topic, t, checked.received, accepted.length, rejected);
    return { accepted: accepted.length, rejected, spooled };
  }

  function receive(topic: string, payload: Buffer): Promise<void> | undefined {
    try {
      return handle(topic, payload).spooled;
    } catch (err) {
      unexpected(s, 'hook', err, topic);
      const p = Promise.reject(err as Error);
      p.catch(() => {});
      return p;
    }
  }

  return { handle, receive };
}
