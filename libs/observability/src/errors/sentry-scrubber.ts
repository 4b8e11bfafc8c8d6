import { type Breadcrumb, type ErrorEvent } from '@sentry/nestjs';
import { isSensitiveKey, REDACTED } from '../logging/redaction.constants';

/**
 * Keys redacted in Sentry events beyond the shared list: events gather data from more
 * places than log lines (breadcrumb data, request query strings, exception extras), where a
 * secret can hide under a looser name (`token`, `x-api-key`, `client_secret`).
 */
const EXTRA_SENSITIVE_KEY =
  /^pass$|passw(or)?d|passphrase|token|secret|authorization|cookie|api[-_]?key/i;

/** `Bearer <credential>` anywhere in a string. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi;
/** A JWT (three base64url parts, the first a JSON header). */
const JWT = /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
/**
 * `name=value` or `"name": "value"` pairs of a sensitive name in query strings, form bodies,
 * JSON fragments and messages.
 */
const SENSITIVE_PAIR =
  /((?:passw(?:or)?d|passphrase|[A-Za-z_-]*token|secret|authorization|cookie|api[-_]?key)["']?\s*[:=]\s*["']?)(?!\[Redacted\]|Bearer |Basic )([^\s&"',;}\]]+)/gi;

/** Deep enough for stack frames and breadcrumb data; hostile nesting ends here. */
const MAX_DEPTH = 16;
/** Event fields that are never sent (SDK bookkeeping holding live objects). */
const SKIPPED_EVENT_FIELDS = new Set(['sdkProcessingMetadata']);

/**
 * Removes secrets from Sentry events and breadcrumbs: values of sensitive keys (the shared
 * redaction list plus looser secret-looking names), request bodies and cookies, bearer tokens,
 * JWTs and `password=…`-style pairs inside any string, and the exact values of known secrets
 * (the internal token) wherever they appear.
 */
export class SentryScrubber {
  private readonly secrets: string[];

  /** @param secrets values that must never leave the process (e.g. `INTERNAL_TOKEN`). */
  constructor(secrets: readonly (string | undefined)[] = []) {
    this.secrets = secrets.filter((secret): secret is string => !!secret && secret.length >= 8);
  }

  /** `beforeSend`: the scrubbed event (never drops it). */
  scrubEvent<T extends ErrorEvent>(event: T): T {
    const request = event.request;
    if (request) {
      // Bodies and cookies are not scrubbed field by field: they are never sent at all.
      delete request.data;
      delete request.cookies;
    }
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(event)) {
      out[key] = SKIPPED_EVENT_FIELDS.has(key) ? value : this.scrubValue(key, value, 0);
    }
    return out as T;
  }

  /** `beforeBreadcrumb`: the scrubbed breadcrumb. */
  scrubBreadcrumb(breadcrumb: Breadcrumb): Breadcrumb {
    return this.scrubValue('', breadcrumb, 0) as Breadcrumb;
  }

  /** A scrubbed copy of any string. */
  scrubString(value: string): string {
    let out = value;
    for (const secret of this.secrets) {
      out = out.split(secret).join(REDACTED);
    }
    return out
      .replace(BEARER, (_match, scheme: string) => `${scheme} ${REDACTED}`)
      .replace(JWT, REDACTED)
      .replace(SENSITIVE_PAIR, (_match, name: string) => `${name}${REDACTED}`);
  }

  private scrubValue(key: string, value: unknown, depth: number): unknown {
    if (key !== '' && isSecretKey(key) && value !== undefined && value !== null) {
      return REDACTED;
    }
    if (typeof value === 'string') {
      return this.scrubString(value);
    }
    if (value === null || typeof value !== 'object') {
      return value;
    }
    if (depth >= MAX_DEPTH) {
      return '[Truncated]';
    }
    if (Array.isArray(value)) {
      // Header lists (`[['authorization', 'Bearer …']]`) carry the name in the first item.
      if (value.length === 2 && typeof value[0] === 'string' && isSecretKey(value[0])) {
        return [value[0], REDACTED];
      }
      return value.map((item) => this.scrubValue('', item, depth + 1));
    }
    if (!isPlainObject(value)) {
      return value;
    }
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) {
      out[this.scrubString(name)] = this.scrubValue(name, item, depth + 1);
    }
    return out;
  }
}

function isSecretKey(key: string): boolean {
  return isSensitiveKey(key) || EXTRA_SENSITIVE_KEY.test(key);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
