/**
 * One coded error registry. Codes are stable (gateways and dashboards match on them);
 * docs/errors.md lists the same codes and a test keeps the two in step.
 */
export const ERRORS = {
  HW_ERR_CONFIG: { status: 500, message: 'invalid configuration' },
  HW_ERR_REGISTRY: { status: 500, message: 'invalid registry file' },
  HW_ERR_PAYLOAD_NOT_JSON: { status: 400, message: 'payload is not valid JSON' },
  HW_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'payload is larger than the limit' },
  HW_ERR_PAYLOAD_SHAPE: { status: 400, message: 'payload is not a reading batch' },
  HW_ERR_TOO_MANY_READINGS: { status: 400, message: 'batch holds more readings than the limit' },
  HW_ERR_UNKNOWN_SENSOR: { status: 400, message: 'sensor is not in the registry' },
  HW_ERR_SENSOR_NOT_OWNED: { status: 403, message: 'sensor belongs to another gateway' },
  HW_ERR_BAD_UNIT: { status: 400, message: 'unit cannot be converted to the agent unit' },
  HW_ERR_BAD_VALUE: { status: 400, message: 'value is not a finite number' },
  HW_ERR_OUT_OF_RANGE: { status: 400, message: 'value is outside the sensor physical range' },
  HW_ERR_TS_FUTURE: { status: 400, message: 'timestamp is too far in the future' },
  HW_ERR_TS_TOO_OLD: { status: 400, message: 'timestamp is too old' },
  HW_ERR_BAD_TS: { status: 400, message: 'timestamp is not a valid epoch-ms number' },
  HW_ERR_DUPLICATE: { status: 409, message: 'duplicate reading (same sensor and timestamp)' },
  HW_ERR_BAD_REQUEST: { status: 400, message: 'bad request' },
  HW_ERR_UNAUTHENTICATED: { status: 401, message: 'not logged in or session expired' },
  HW_ERR_BAD_LOGIN: { status: 401, message: 'wrong username or password' },
  HW_ERR_FORBIDDEN: { status: 403, message: 'outside your jurisdiction' },
  HW_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  HW_ERR_CONFLICT: { status: 409, message: 'the alert is not in a state that allows this action' },
  HW_ERR_STORE_UNAVAILABLE: { status: 503, message: 'the store is unavailable' },
  HW_ERR_BAD_ARGUMENT: { status: 400, message: 'a command-line argument is missing or invalid' },
  HW_ERR_BAD_RANGE: { status: 400, message: 'time range, interval or page is out of bounds' },
  HW_ERR_BAD_ID: { status: 400, message: 'id holds characters that cannot be stored or queried' },
  HW_ERR_RATE_LIMITED: { status: 429, message: 'too many attempts' },
  HW_ERR_FIELD_TOO_LONG: { status: 400, message: 'a text field is longer than its limit' },
  HW_ERR_SENML_SUM_ONLY: { status: 400, message: 'SenML record carries a sum but no value (sums are not stored)' },
  HW_ERR_SENML_UNSUPPORTED: { status: 400, message: 'SenML record uses a must-understand label or version this server does not support' },
  HW_ERR_INGEST_INTERNAL: { status: 500, message: 'ingest failed unexpectedly on this message or reading' },
  HW_ERR_VALIDATION: { status: 400, message: 'the request failed its schema' },
  HW_ERR_INTERNAL: { status: 500, message: 'internal error' },
  HW_ERR_URI_TOO_LONG: { status: 414, message: 'a path parameter is longer than the limit' },
  HW_ERR_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'the request body is not of a type this route accepts (application/json)' },
  HW_ERR_BACKLOG_FULL: { status: 503, message: 'a stream partition holds more unconsumed entries than its limit' },
  HW_ERR_BAD_EVENT_ID: { status: 400, message: 'event id is not a stream entry id (<ms>-<seq>)' },
  HW_ERR_IMPORT_REFUSED: { status: 400, message: 'import refused: rows are invalid, nothing was imported' },
  HW_ERR_BAD_SECRET: { status: 400, message: 'secret refused: empty, holding a NUL byte, or too long' },
  HW_ERR_RULES_UNAVAILABLE: { status: 503, message: 'the rules worker that owns this alert did not answer; try again' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** A rejection as the hot path returns it (validators return these, they do not throw). */
export interface Rejection {
  code: ErrorCode;
  message: string;
  /** Index of the reading in its batch, when the rejection is per reading. */
  index?: number;
  sensor?: string;
}

/**
 * Longest rejection message, in characters: a rejection echoes at most a short prefix of
 * what it rejects, so 30 KB in cannot become megabytes out on the err topic.
 */
export const REASON_MAX_CHARS = 300;
/** Longest sensor id echoed in a rejection (registry ids are at most 64 characters). */
export const SENSOR_ECHO_MAX_CHARS = 64;

export function reject(code: ErrorCode, detail?: string, extra?: Omit<Rejection, 'code' | 'message'>): Rejection {
  const base = ERRORS[code].message;
  let message = detail ? `${base}: ${detail}` : base;
  if (message.length > REASON_MAX_CHARS) message = `${message.slice(0, REASON_MAX_CHARS - 1)}…`;
  const r: Rejection = { code, message };
  if (extra?.index !== undefined) r.index = extra.index;
  if (extra?.sensor !== undefined) r.sensor = extra.sensor.length > SENSOR_ECHO_MAX_CHARS ? `${extra.sensor.slice(0, SENSOR_ECHO_MAX_CHARS - 1)}…` : extra.sensor;
  return r;
}

export class HwError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  constructor(code: ErrorCode, detail?: string) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message);
    this.code = code;
    this.statusCode = ERRORS[code].status;
  }
}
