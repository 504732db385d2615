import type { AlertEvent } from '../../core/src/types.ts';

/**
 * The one interface every notification channel implements. An outbox drives it: it
 * writes a decision (alert event × recipient × channel) with an idempotency key, then
 * calls `send` with that key until the result is `ok` or not `retryable`, and stores
 * the result (status, answer, attempts) as the delivery log.
 */

export type Locale = 'zh-CN' | 'en';

/** A message rendered once in every form; each channel takes the form it needs. */
export interface NotifyMessage {
  locale: Locale;
  /** One line: the mail subject, the robot markdown title. */
  subject: string;
  text: string;
  markdown: string;
  html: string;
  /** Short form for SMS (at most two 67-character segments, render-message.ts). */
  sms: string;
  /** `<baseUrl>/#/alerts/<id>` */
  link: string;
  /** The event the message is about: the webhook posts it as data. */
  event: AlertEvent;
}

/**
 * Who receives it. Robots and webhooks deliver to the endpoint of their channel (a
 * group), so they need no address; e-mail needs `email`, SMS `phones`. DingTalk @-mentions
 * `phones` when it has them.
 */
export interface Recipient {
  /** Stable id (a username, a contact id or a group id): part of the outbox's key. */
  id: string;
  name?: string;
  locale?: Locale;
  email?: string;
  phones?: readonly string[];
}

/**
 * Keys travel in HTTP headers, SMTP headers and provider templates: printable ASCII
 * without spaces, at most 200 characters (`<alertId>:<event seq>:<recipient>:<channel>`).
 */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export interface SendOptions {
  /** Carried to the receiver (header, Message-ID, template field) so it can drop a resend. */
  idempotencyKey: string;
  /** The caller's cancellation (shutdown); the channel's own timeout is added to it. */
  signal?: AbortSignal;
  /** Called after each attempt, so the outbox can log attempts as they happen. */
  onAttempt?: (attempt: number, result: SendResult) => void;
}

/** What happened when there was no answer to give a status code. */
export type NoAnswer =
  | 'timeout' // the channel's timeout fired
  | 'aborted' // the caller's signal fired
  | 'network' // refused, reset, DNS: no answer at all
  | 'throttled' // the channel's own rate limit would have held it longer than allowed
  | 'bad-recipient' // the recipient lacks the address this channel needs
  | 'bad-request'; // the idempotency key cannot be carried (see IDEMPOTENCY_KEY_PATTERN)

export interface SendResult {
  ok: boolean;
  /** HTTP status or SMTP reply code of the answer, or why there was none. */
  status: number | NoAnswer;
  /** The receiver's answer or the error, at most ANSWER_MAX_BYTES, secrets removed. */
  answer: string;
  /** Worth sending again later with the same idempotency key. */
  retryable: boolean;
  /** When the receiver (Retry-After) or the rate limit says the next try may go, ms from now. */
  retryAfterMs?: number;
}

export interface DeliveryResult extends SendResult {
  /** Attempts made in this call (each one passed the rate limit and reached the adapter). */
  attempts: number;
}

/** One attempt, as the adapter makes it: no retry, no rate limit, the signal includes the timeout. */
export type SendOnce = (message: NotifyMessage, recipient: Recipient, opts: { idempotencyKey: string; signal: AbortSignal }) => Promise<SendResult>;

export type ChannelType = 'webhook' | 'email' | 'wecom' | 'dingtalk' | 'sms';

export interface Channel {
  /** The configured name (`ops-webhook`, `safety-mail`): what routing policies refer to. */
  readonly name: string;
  readonly type: ChannelType;
  /** Rate limit, timeout and bounded retries with jittered back-off around one adapter (deliver.ts). */
  send(message: NotifyMessage, recipient: Recipient, opts: SendOptions): Promise<DeliveryResult>;
  /** Releases sockets (the SMTP pool); a closed channel answers nothing more. */
  close(): Promise<void>;
}
