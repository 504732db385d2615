import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { Type } from '@sinclair/typebox';
import { echo } from '../../core/src/describe.ts';
import { ERRORS, HwError, type ErrorCode } from '../../core/src/errors.ts';
import { errors } from './schemas.ts';

/**
 * Every error the API answers, as `{code, message}` with a code of core/src/errors.ts
 * whose status is the HTTP status: HwErrors as they are, schema failures, Fastify's own
 * errors (bad JSON, body too large, unsupported media type, bad or over-long URL), and a
 * catch-all that never leaks a library's code or message on a 5xx.
 */
export interface CodedReply {
  status: number;
  code: ErrorCode;
  message: string;
}

interface ValidationEntry { keyword?: string; instancePath?: string; message?: string; params?: Record<string, unknown> }
export type AnyError = Error & { code?: string; statusCode?: number; validation?: ValidationEntry[]; validationContext?: string };

/** Schema keywords whose failure is a value out of its bounds: HW_ERR_BAD_RANGE, as time-range.ts answers. */
const BOUND_KEYWORDS = new Set(['minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum']);

/** Fastify's error codes → ours. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'HW_ERR_VALIDATION',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'HW_ERR_VALIDATION',
  FST_ERR_CTP_BODY_TOO_LARGE: 'HW_ERR_PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'HW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'HW_ERR_BAD_REQUEST',
  FST_ERR_BAD_URL: 'HW_ERR_BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'HW_ERR_URI_TOO_LONG',
};
/** Any other 4xx, by status. */
const BY_STATUS: Record<number, ErrorCode> = {
  400: 'HW_ERR_BAD_REQUEST', 401: 'HW_ERR_UNAUTHENTICATED', 403: 'HW_ERR_FORBIDDEN', 404: 'HW_ERR_NOT_FOUND', 409: 'HW_ERR_CONFLICT',
  413: 'HW_ERR_PAYLOAD_TOO_LARGE', 414: 'HW_ERR_URI_TOO_LONG', 415: 'HW_ERR_UNSUPPORTED_MEDIA_TYPE', 429: 'HW_ERR_RATE_LIMITED',
};

const coded = (code: ErrorCode, detail: string): CodedReply => ({ status: ERRORS[code].status, code, message: `${ERRORS[code].message}: ${echo(detail, 300)}` });

export function codedError(err: AnyError): CodedReply {
  if (err instanceof HwError) return { status: err.statusCode, code: err.code, message: err.message };
  if (err.validation) {
    const v = err.validation[0];
    const where = `${err.validationContext ?? 'request'}${v?.instancePath ?? ''}`;
    const extra = v?.params?.additionalProperty ?? v?.params?.missingProperty;
    const detail = v ? `${where} ${v.message ?? 'is invalid'}${extra ? `: ${echo(String(extra))}` : ''}` : `${where} ${err.message}`;
    return { status: 400, code: v?.keyword && BOUND_KEYWORDS.has(v.keyword) ? 'HW_ERR_BAD_RANGE' : 'HW_ERR_VALIDATION', message: echo(detail, 300) };
  }
  const known = err.code ? FASTIFY_CODES[err.code] : undefined;
  if (known) {
    const detail = known === 'HW_ERR_VALIDATION' ? `body is not valid JSON: ${err.message}` : `${ERRORS[known].message}: ${err.message}`;
    return { status: ERRORS[known].status, code: known, message: echo(detail, 300) };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return coded(BY_STATUS[status] ?? 'HW_ERR_BAD_REQUEST', err.message);
  return { status: 500, code: 'HW_ERR_INTERNAL', message: 'internal error' };
}

/** The not-found handler: an unknown route is a coded 404 naming it (bounded). */
export function notFound(req: FastifyRequest, reply: FastifyReply) {
  return reply.code(404).send({ code: 'HW_ERR_NOT_FOUND', message: `no route ${req.method} ${echo(req.url.split('?')[0] ?? '', 100)}` });
}

const NoQuery = Type.Object({}, { additionalProperties: false });
const isApiRoute = (url: string) => url.startsWith('/api/') || url === '/metrics';

/**
 * An onRoute hook: every API route refuses unknown query fields (a route without a
 * querystring schema gets an empty one, additionalProperties: false), and declares the
 * statuses that follow from it (400; 413 and 415 for a route that takes a body; 503 for
 * a route that authenticates, i.e. declares 401: the session store may be Redis, down).
 */
export function strictRoute(route: RouteOptions) {
  const paths = Array.isArray(route.url) ? route.url : [route.url];
  if (!paths.some((u) => typeof u === 'string' && isApiRoute(u))) return;
  const schema = (route.schema ??= {}) as { querystring?: unknown; response?: Record<string, unknown>; hide?: boolean };
  schema.querystring ??= NoQuery;
  if (schema.hide) return;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const needed = methods.some((m) => m === 'POST' || m === 'PUT' || m === 'PATCH') ? [400, 413, 415] : [400];
  schema.response ??= {};
  if ('401' in schema.response) needed.push(503);
  for (const [status, s] of Object.entries(errors(...needed))) if (!(status in schema.response)) schema.response[status] = s;
}
