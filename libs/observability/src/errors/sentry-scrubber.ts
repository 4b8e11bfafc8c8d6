import { type Breadcrumb, type ErrorEvent } from '@sentry/nestjs';
import { isSensitiveKey, REDACTED } from '../logging/redaction.constants';

/**
 * Keys redacted in Sentry events beyond the shared list: events gather data from more
 * places than log lines (breadcrumb data, request query strings, exception extras), where a
 * secret can hide under a looser name (`token`, `x-api-key`, `client_secret`).
 */
const EXTRA_SENSITIVE_KEY =
  /^pass$|passw(or)?d|passphrase|token|secret|authorization|cookie|api[-_]?key/i;
/** Keys longer than this are judged by their start only (bounded work per key). */
const MAX_KEY_LENGTH = 256;

/*
 * Every pattern below runs in linear time: a match may start only where the preceding
 * character cannot belong to it (lookbehind), and repeated parts are bounded, so a long run
 * of letters, `eyJ`s or `token`s is tried once, not once per position (a client controls the
 * path and the query, which land in events).
 */

/** `Bearer <credential>` anywhere in a string. */
const BEARER = /(?<![A-Za-z0-9_])(Bearer|Basic)[ \t]{1,16}[A-Za-z0-9._~+/=-]+/gi;
/** A JWT (three base64url parts, the first a JSON header). */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;
/**
 * `name=value` or `"name": "value"` pairs in query strings, form bodies, JSON fragments and
 * messages; the name (one whole word of at most 64 characters) is judged by
 * {@link SENSITIVE_PAIR_NAME}.
 */
const PAIR =
  /(?<![A-Za-z0-9_-])([A-Za-z_-]{1,64})(["']?[ \t]{0,8}[:=][ \t]{0,8}["']?)(?!\[Redacted\]|Bearer |Basic )([^\s&"',;}\]]+)/gi;
/** Names whose value a pair hides: ending in password, token, secret, cookie, api key… */
const SENSITIVE_PAIR_NAME =
  /(?:passw(?:or)?d|passphrase|token|secret|authorization|cookie|api[-_]?key)$/i;
/**
 * Longest string scrubbed as it is; the rest is cut (`…[Truncated]`). Events are capped by
 * Sentry anyway, and this keeps a hostile value from costing more than a bounded scan.
 */
export const MAX_SCRUBBED_STRING_LENGTH = 64 * 1024;

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

  /** A scrubbed copy of any string, cut to {@link MAX_SCRUBBED_STRING_LENGTH}; linear time. */
  scrubString(value: string): string {
    let out =
      value.length > MAX_SCRUBBED_STRING_LENGTH
        ? `${value.slice(0, MAX_SCRUBBED_STRING_LENGTH)}…[Truncated]`
        : value;
    for (const secret of this.secrets) {
      out = out.split(secret).join(REDACTED);
    }
    return out
      .replace(BEARER, (_match, scheme: string) => `${scheme} ${REDACTED}`)
      .replace(JWT, REDACTED)
      .replace(PAIR, (match, name: string, separator: string) =>
        SENSITIVE_PAIR_NAME.test(name) ? `${name}${separator}${REDACTED}` : match,
      );
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
  const bounded = key.length > MAX_KEY_LENGTH ? key.slice(0, MAX_KEY_LENGTH) : key;
  return isSensitiveKey(bounded) || EXTRA_SENSITIVE_KEY.test(bounded);
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
