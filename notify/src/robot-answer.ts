import { redact, truncateUtf8 } from './answer.ts';
import type { SendResult } from './channel.ts';
import { httpResult, type HttpAnswer } from './http-post.ts';

/**
 * WeCom and DingTalk robots answer HTTP 200 with `{"errcode": n, "errmsg": "..."}`: 0 is
 * delivered, anything else was refused. `retryableCodes` are the vendor's "busy" and
 * "too fast" codes; any other code (bad key, bad signature, keyword missing, message too
 * long) would be refused again.
 */
export function robotResult(a: HttpAnswer, secrets: readonly string[], retryableCodes: ReadonlySet<number>): SendResult {
  if (a.status < 200 || a.status >= 300) return httpResult(a, secrets);
  let errcode: unknown;
  try {
    errcode = (JSON.parse(a.body) as { errcode?: unknown }).errcode;
  } catch {
    errcode = undefined;
  }
  const answer = redact(a.body, secrets);
  if (errcode === 0) return { ok: true, status: a.status, answer, retryable: false };
  // Not the vendor's JSON at all (a proxy's page): say so, and let a later try find the robot.
  if (typeof errcode !== 'number') return { ok: false, status: a.status, answer: truncateUtf8(`no errcode in the answer: ${answer}`), retryable: true };
  return { ok: false, status: a.status, answer, retryable: retryableCodes.has(errcode) };
}
