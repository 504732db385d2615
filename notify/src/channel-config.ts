import { Type, type Static, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { HwError } from '../../core/src/errors.ts';
import type { ChannelType } from './channel.ts';
import type { DeliveryPolicy } from './deliver.ts';
import { jsonPathProblems, templateProblems } from './sms-template.ts';

/**
 * The channels, as configuration data: endpoints, secrets and limits never live in code.
 * Validated as a whole (every problem at once, by channel name and field, never echoing a
 * value, so a secret in a wrong field does not end up in an error message), then frozen.
 */
const Name = Type.String({ pattern: '^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$' });
const HttpUrl = Type.String({ pattern: '^https?://', maxLength: 2048 });
const Secret = Type.String({ minLength: 1, maxLength: 4096 });
const Headers = Type.Record(Type.String({ pattern: '^[A-Za-z0-9-]{1,64}$' }), Type.String({ maxLength: 4096 }), { maxProperties: 32 });

const Policy = {
  timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000, description: 'one attempt, ms' })),
  rate: Type.Optional(Type.Object({
    ratePerS: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000, description: 'sustained sends per second' })),
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, description: 'sends at once' })),
    maxWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'longest wait for a token, ms' })),
  }, { additionalProperties: false })),
  retry: Type.Optional(Type.Object({
    maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10 })),
    baseDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'back-off base, ms' })),
    maxDelayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'longest back-off, ms' })),
    retryAfterCapMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000, description: 'longest Retry-After waited within one send, ms' })),
  }, { additionalProperties: false })),
};

const WebhookSchema = Type.Object({
  name: Name, type: Type.Literal('webhook'), ...Policy,
  url: HttpUrl,
  /** At least 16 characters: the HMAC key is the receiver's only proof the call is ours. */
  secret: Type.String({ minLength: 16, maxLength: 4096 }),
  headers: Type.Optional(Headers),
}, { additionalProperties: false });

const EmailSchema = Type.Object({
  name: Name, type: Type.Literal('email'), ...Policy,
  host: Type.String({ minLength: 1 }),
  port: Type.Integer({ minimum: 1, maximum: 65535, default: 587 }),
  secure: Type.Boolean({ default: false, description: 'implicit TLS (465)' }),
  requireTLS: Type.Boolean({ default: true, description: 'refuse to send without STARTTLS' }),
  auth: Type.Optional(Type.Object({ user: Type.String({ minLength: 1 }), pass: Secret }, { additionalProperties: false })),
  tls: Type.Object({
    rejectUnauthorized: Type.Boolean({ default: true }),
    ca: Type.Optional(Type.String({ pattern: '-----BEGIN CERTIFICATE-----' })),
    servername: Type.Optional(Type.String({ minLength: 1 })),
    minVersion: Type.Union([Type.Literal('TLSv1.2'), Type.Literal('TLSv1.3')], { default: 'TLSv1.2' }),
  }, { additionalProperties: false, default: {} }),
  from: Type.String({ minLength: 3, maxLength: 320 }),
  messageIdDomain: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]{1,253}$' })),
  maxConnections: Type.Integer({ minimum: 1, maximum: 20, default: 2 }),
}, { additionalProperties: false });

const WecomSchema = Type.Object({
  name: Name, type: Type.Literal('wecom'), ...Policy,
  url: HttpUrl,
  key: Secret,
}, { additionalProperties: false });

const DingtalkSchema = Type.Object({
  name: Name, type: Type.Literal('dingtalk'), ...Policy,
  url: HttpUrl,
  accessToken: Secret,
  secret: Type.Optional(Secret),
}, { additionalProperties: false });

const SmsSchema = Type.Object({
  name: Name, type: Type.Literal('sms'), ...Policy,
  url: HttpUrl,
  method: Type.Union([Type.Literal('POST'), Type.Literal('PUT'), Type.Literal('GET')], { default: 'POST' }),
  headers: Type.Optional(Headers),
  bodyFormat: Type.Union([Type.Literal('json'), Type.Literal('form'), Type.Literal('text')], { default: 'json' }),
  body: Type.String({ maxLength: 16_384, default: '' }),
  secrets: Type.Optional(Type.Record(Type.String({ pattern: '^[A-Za-z0-9_]{1,64}$' }), Secret, { maxProperties: 16 })),
  success: Type.Object({
    status: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, maxItems: 16 })),
    jsonPath: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    equals: Type.Optional(Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
    retryableValues: Type.Optional(Type.Array(Type.Union([Type.String(), Type.Number()]), { maxItems: 32 })),
  }, { additionalProperties: false, default: {} }),
}, { additionalProperties: false });

const SCHEMAS: Record<ChannelType, TObject> = { webhook: WebhookSchema, email: EmailSchema, wecom: WecomSchema, dingtalk: DingtalkSchema, sms: SmsSchema };

export type WebhookChannelDef = Static<typeof WebhookSchema>;
export type EmailChannelDef = Static<typeof EmailSchema>;
export type WecomChannelDef = Static<typeof WecomSchema>;
export type DingtalkChannelDef = Static<typeof DingtalkSchema>;
export type SmsChannelDef = Static<typeof SmsSchema>;
type ChannelFields = WebhookChannelDef | EmailChannelDef | WecomChannelDef | DingtalkChannelDef | SmsChannelDef;
/** A validated channel with its delivery policy resolved (type defaults under the file's overrides). */
export type ChannelDef = ChannelFields & { policy: DeliveryPolicy };

const minute = 60;
/**
 * Defaults per channel type. Robots: WeCom and DingTalk each take at most 20 messages a
 * minute per robot (wecom.ts, dingtalk.ts); a bucket of burst B and rate r lets
 * B + 60·r through in any minute, so 10 + 10 = 20. SMS providers throttle per number
 * (typically 1 a minute to the same phone); the gateway's own rate is kept modest.
 */
export const POLICY_DEFAULTS: Record<ChannelType, DeliveryPolicy> = {
  webhook: { timeoutMs: 5_000, rate: { ratePerS: 10, burst: 20, maxWaitMs: 30_000 }, retry: { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, retryAfterCapMs: 60_000 } },
  email: { timeoutMs: 15_000, rate: { ratePerS: 2, burst: 10, maxWaitMs: 60_000 }, retry: { maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 60_000, retryAfterCapMs: 60_000 } },
  wecom: { timeoutMs: 5_000, rate: { ratePerS: 10 / minute, burst: 10, maxWaitMs: 60_000 }, retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000, retryAfterCapMs: 60_000 } },
  dingtalk: { timeoutMs: 5_000, rate: { ratePerS: 10 / minute, burst: 10, maxWaitMs: 60_000 }, retry: { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000, retryAfterCapMs: 60_000 } },
  sms: { timeoutMs: 10_000, rate: { ratePerS: 1, burst: 5, maxWaitMs: 60_000 }, retry: { maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 60_000, retryAfterCapMs: 60_000 } },
};

/** Most channels in one file: a bound on what a configuration can make us hold open. */
const MAX_CHANNELS = 200;

/** Validates a list of channel definitions; throws one HW_ERR_CONFIG listing every problem. */
export function loadChannelDefs(raw: unknown, where = 'notify channels'): readonly ChannelDef[] {
  const problems: string[] = [];
  if (!Array.isArray(raw)) throw new HwError('HW_ERR_CONFIG', `${where}: expected a list of channels`);
  if (raw.length > MAX_CHANNELS) throw new HwError('HW_ERR_CONFIG', `${where}: more than ${MAX_CHANNELS} channels`);
  const out: ChannelDef[] = [];
  const names = new Set<string>();
  raw.forEach((entry, i) => {
    const e = (entry ?? {}) as { name?: unknown; type?: unknown };
    const label = `${where}[${i}]${typeof e.name === 'string' ? ` (${e.name.slice(0, 64)})` : ''}`;
    const schema = typeof e.type === 'string' ? SCHEMAS[e.type as ChannelType] : undefined;
    if (!schema) {
      problems.push(`${label}/type: must be one of ${Object.keys(SCHEMAS).join(', ')}`);
      return;
    }
    const value = Value.Default(schema, structuredClone(entry)) as Static<typeof schema>;
    const errs = [...Value.Errors(schema, value)].map((x) => `${label}${x.path}: ${x.message}`);
    problems.push(...errs);
    if (errs.length) return;
    const def = value as ChannelFields;
    if (names.has(def.name)) problems.push(`${label}: duplicate channel name`);
    names.add(def.name);
    if (def.type === 'sms') problems.push(...smsProblems(def).map((p) => `${label}: ${p}`));
    if (def.type === 'webhook') {
      // The signature, the key and the body's type are ours to set: a configured one would contradict them.
      for (const h of Object.keys(def.headers ?? {})) if (/^(content-type|content-length|host|x-hazardwatch-.*)$/i.test(h)) problems.push(`${label}/headers/${h}: set by hazardwatch`);
    }
    out.push({ ...def, policy: policyOf(def) } as ChannelDef);
  });
  if (problems.length) throw new HwError('HW_ERR_CONFIG', `${where}:\n  ${problems.slice(0, 50).join('\n  ')}`);
  return deepFreeze(out);
}

function smsProblems(d: SmsChannelDef): string[] {
  const secretNames = Object.keys(d.secrets ?? {});
  const problems = [...templateProblems(d.url, 'url', secretNames).map((p) => `url: ${p}`), ...templateProblems(d.body, d.bodyFormat, secretNames).map((p) => `body: ${p}`)];
  if (d.method !== 'GET' && d.body === '') problems.push(`body: a ${d.method} needs a body template`);
  if (d.body !== '' && !/\{\{\s*message\s*\}\}/.test(d.url + d.body)) problems.push('the URL or body must hold {{message}}');
  if (!/\{\{\s*phones(Json)?\s*\}\}/.test(d.url + d.body)) problems.push('the URL or body must hold {{phones}} or {{phonesJson}}');
  if (d.bodyFormat === 'json' && d.body !== '' && !problems.length) {
    // Filled with awkward sample values, a JSON template must still be JSON: catches
    // {{phones}} outside quotes and a missing comma before the first real send.
    const sample = d.body.replace(/\{\{\s*phonesJson\s*\}\}/g, '["1"]').replace(/\{\{\s*[A-Za-z0-9_.]+\s*\}\}/g, 'x\\"y');
    try {
      JSON.parse(sample);
    } catch {
      problems.push('body: not JSON once filled (placeholders other than {{phonesJson}} go inside quotes)');
    }
  }
  if (d.success.jsonPath !== undefined) {
    problems.push(...jsonPathProblems(d.success.jsonPath).map((p) => `success: ${p}`));
    if (d.success.equals === undefined) problems.push('success: jsonPath needs equals');
  }
  return problems;
}

function policyOf(d: { type: ChannelType } & Partial<Pick<WebhookChannelDef, 'timeoutMs' | 'rate' | 'retry'>>): DeliveryPolicy {
  const base = POLICY_DEFAULTS[d.type];
  return { timeoutMs: d.timeoutMs ?? base.timeoutMs, rate: { ...base.rate, ...d.rate }, retry: { ...base.retry, ...d.retry } };
}

/** Names of the fields that hold secrets, by channel type: what `publicView` hides. */
const SECRET_FIELDS: Record<ChannelType, readonly string[]> = {
  webhook: ['secret', 'headers'], email: ['auth'], wecom: ['key'], dingtalk: ['accessToken', 'secret'], sms: ['headers', 'secrets'],
};

/** A channel definition fit for a log line or an API answer: every secret replaced by `***`. */
export function publicView(d: ChannelDef): Record<string, unknown> {
  const out: Record<string, unknown> = { ...d };
  for (const f of SECRET_FIELDS[d.type]) if (out[f] !== undefined) out[f] = '***';
  return out;
}

function deepFreeze<T>(o: T): T {
  for (const v of Object.values(o as object)) if (v && typeof v === 'object') deepFreeze(v);
  return Object.freeze(o);
}
