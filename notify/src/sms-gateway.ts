import { redact } from './answer.ts';
import type { SendOnce, SendResult } from './channel.ts';
import { httpRequest, httpResult, type HttpAnswer } from './http-post.ts';
import { fillTemplate, readJsonPath, type BodyFormat } from './sms-template.ts';

/**
 * SMS through an HTTP gateway described by configuration (sms-template.ts): the URL,
 * method, headers and body template of the provider's "send" call, and how its answer
 * says "accepted": a status, and optionally a JSON path whose value must equal a given
 * value (Aliyun answers 200 with `"Code": "OK"`, others `"code": 0`, …).
 */
export interface SmsGatewayConfig {
  url: string;
  method: 'POST' | 'PUT' | 'GET';
  /** Static headers; their values are treated as secrets (an Authorization). */
  headers: Record<string, string>;
  bodyFormat: BodyFormat;
  /** Body template; empty for a GET whose URL template carries everything. */
  body: string;
  /** Values for `{{secret.NAME}}` (API keys the provider wants in the body or URL). */
  secrets: Record<string, string>;
  success: {
    /** Statuses that can mean "accepted"; absent = any 2xx. */
    status?: number[];
    /** Where in the JSON answer the provider puts its verdict. */
    jsonPath?: string;
    /** The value there that means "accepted" (compared as text). */
    equals?: string | number | boolean;
    /** Values there that mean "busy, try later" (the provider's rate-control codes). */
    retryableValues?: (string | number)[];
  };
}

/** A phone number as providers take it: digits, optionally with a leading +. */
const PHONE = /^\+?[0-9]{5,20}$/;
/** Most numbers in one send: providers cap a batch (Aliyun 1000); an alert never needs more. */
export const SMS_MAX_PHONES = 100;

const CONTENT_TYPE: Record<BodyFormat, string> = {
  json: 'application/json; charset=utf-8',
  form: 'application/x-www-form-urlencoded; charset=utf-8',
  text: 'text/plain; charset=utf-8',
};

export function smsGatewayAdapter(cfg: SmsGatewayConfig, now: () => number = Date.now): { sendOnce: SendOnce; secrets: string[] } {
  const secrets = [...Object.values(cfg.headers), ...Object.values(cfg.secrets)];
  const sendOnce: SendOnce = async (message, recipient, { idempotencyKey, signal }) => {
    const phones = recipient.phones ?? [];
    if (phones.length === 0 || phones.length > SMS_MAX_PHONES || !phones.every((p) => PHONE.test(p))) {
      return { ok: false, status: 'bad-recipient', answer: `recipient ${recipient.id} needs 1-${SMS_MAX_PHONES} phone numbers of 5-20 digits`, retryable: false };
    }
    const values = { message: message.sms, phones, idempotencyKey, secrets: cfg.secrets };
    const url = fillTemplate(cfg.url, 'url', values);
    const hasBody = cfg.method !== 'GET' && cfg.body !== '';
    // A provider that wants its own spelling of the content type ("application/json;charset=UTF-8") gets it.
    const ownType = Object.keys(cfg.headers).some((h) => h.toLowerCase() === 'content-type');
    const headers = { ...cfg.headers, ...(hasBody && !ownType ? { 'content-type': CONTENT_TYPE[cfg.bodyFormat] } : {}) };
    const body = hasBody ? fillTemplate(cfg.body, cfg.bodyFormat, values) : undefined;
    const a = await httpRequest(url, { method: cfg.method, headers, ...(body !== undefined ? { body } : {}), signal }, now);
    return judge(a, cfg.success, secrets);
  };
  return { sendOnce, secrets };
}

function judge(a: HttpAnswer, success: SmsGatewayConfig['success'], secrets: readonly string[]): SendResult {
  const statusOk = success.status ? success.status.includes(a.status) : a.status >= 200 && a.status < 300;
  if (!statusOk) {
    const r = httpResult(a, secrets);
    // A status listed as success by another rule is still a failure here; keep 2xx-not-listed non-retryable.
    return r.ok ? { ...r, ok: false, retryable: false } : r;
  }
  const answer = redact(a.body, secrets);
  if (success.jsonPath === undefined) return { ok: true, status: a.status, answer, retryable: false };
  let doc: unknown;
  try {
    doc = JSON.parse(a.body);
  } catch {
    return { ok: false, status: a.status, answer: redact(`answer is not JSON: ${a.body}`, secrets), retryable: false };
  }
  const value = readJsonPath(doc, success.jsonPath);
  const text = value === undefined || value === null || typeof value === 'object' ? undefined : String(value);
  if (text !== undefined && text === String(success.equals)) return { ok: true, status: a.status, answer, retryable: false };
  const busy = text !== undefined && (success.retryableValues ?? []).some((v) => String(v) === text);
  return { ok: false, status: a.status, answer, retryable: busy };
}
