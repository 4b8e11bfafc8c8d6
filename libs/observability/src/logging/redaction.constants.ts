import { INTERNAL_TOKEN_HEADER } from '@keel/platform/http/headers';

/**
 * Names whose values never leave the process: not in logs, span attributes or Sentry
 * events (CONTRACT §5). Compared case-insensitively against header names and object keys.
 */
export const SENSITIVE_KEYS: readonly string[] = [
  'authorization',
  'cookie',
  'set-cookie',
  INTERNAL_TOKEN_HEADER,
  'password',
  'accessToken',
  'refreshToken',
];

const SENSITIVE_LOWER = new Set(SENSITIVE_KEYS.map((key) => key.toLowerCase()));

/** Whether a header name or property key is on the redaction list. */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_LOWER.has(key.toLowerCase());
}

export const REDACTED = '[Redacted]';

/**
 * A deep copy of `value` with every sensitive key's value replaced, bounded in depth so
 * that hostile input cannot make redaction itself expensive.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    return value;
  }
  if (depth > 8) {
    return '[Truncated]';
  }
  if (Array.isArray(value)) {
    return value.map((item) => redactDeep(item, depth + 1));
  }
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    out[key] = isSensitiveKey(key) ? REDACTED : redactDeep(item, depth + 1);
  }
  return out;
}

/**
 * pino `redact` paths for the same list: at the top level of a logged object, one level down
 * (`body.password`, `headers.authorization`, `dto.refreshToken`), and where access logs and
 * HTTP client errors keep headers. Query parameters of failed database queries are censored
 * too: they hold password hashes, token hashes and e-mail addresses.
 */
export const PINO_REDACT_PATHS: readonly string[] = [
  ...SENSITIVE_KEYS.flatMap((key) => [
    `["${key}"]`,
    `*["${key}"]`,
    `req.headers["${key}"]`,
    `res.headers["${key}"]`,
    `req.body["${key}"]`,
    `err.config.headers["${key}"]`,
    `err.response.headers["${key}"]`,
  ]),
  'err.parameters',
  'err.driverError.parameters',
];
