import { type IncomingHttpHeaders } from 'node:http';
import {
  CLIENT_IP_HEADER,
  INTERNAL_TOKEN_HEADER,
  RATE_LIMIT_HEADERS,
  REQUEST_ID_HEADER,
} from '@keel/platform/http/headers';

/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), plus those the
 * proxy must compute itself (`host`, `content-length`) or that undici refuses (`expect`).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

/**
 * Request headers the gateway never passes on: it sets the forwarding and request-id headers
 * itself, asks upstreams for identity encoding so that it compresses once at the edge, never
 * lets a client present the service-to-service secret, and leaves trace context to the
 * tracing instrumentation, which injects the gateway's own span.
 */
const NOT_FORWARDED = new Set([
  INTERNAL_TOKEN_HEADER,
  CLIENT_IP_HEADER,
  REQUEST_ID_HEADER,
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-real-ip',
  'forwarded',
  'accept-encoding',
  'traceparent',
  'tracestate',
]);

/**
 * Upstream response headers the gateway answers with its own values: helmet's headers, CORS,
 * rate-limit state (an upstream's limits are about the gateway, not the client), the request
 * id and transport framing.
 */
const NOT_RELAYED = new Set([
  'date',
  'x-powered-by',
  REQUEST_ID_HEADER,
  'content-security-policy',
  'cross-origin-embedder-policy',
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-expose-headers',
  'access-control-max-age',
  ...RATE_LIMIT_HEADERS,
]);

type HeaderValue = string | string[] | undefined;

/** Built once: everything a request or a response header name is checked against. */
const DROPPED_REQUEST = new Set([...HOP_BY_HOP, ...NOT_FORWARDED]);
const DROPPED_RESPONSE = new Set([...HOP_BY_HOP, ...NOT_RELAYED]);
const NONE: ReadonlySet<string> = new Set();

/**
 * Names listed in a `Connection` header are hop-by-hop for that message too. The common
 * values (`keep-alive`, `close`) name only headers that are dropped anyway.
 */
function connectionTokens(value: HeaderValue): ReadonlySet<string> {
  if (value === undefined || value === 'keep-alive' || value === 'close') {
    return NONE;
  }
  const text = Array.isArray(value) ? value.join(',') : value;
  return new Set(
    text
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter((token) => token.length > 0),
  );
}

/**
 * Calls `keep` with each header whose (lower-case, as Node and undici deliver them) name is
 * neither in `dropped` nor listed in the message's `Connection` header.
 */
function eachKept(
  headers: Record<string, HeaderValue>,
  dropped: ReadonlySet<string>,
  keep: (name: string, value: string | string[]) => void,
): void {
  const listed = connectionTokens(headers.connection);
  for (const name in headers) {
    const value = headers[name];
    const key = name.toLowerCase();
    if (value !== undefined && !dropped.has(key) && !listed.has(key)) {
      keep(key, value);
    }
  }
}

/** The end-to-end request headers a client sent that may travel to an upstream. */
export function forwardableRequestHeaders(
  headers: IncomingHttpHeaders,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  eachKept(headers, DROPPED_REQUEST, (name, value) => (out[name] = value));
  return out;
}

/** The upstream response headers the gateway passes back to its client. */
export function relayableResponseHeaders(
  headers: Record<string, HeaderValue>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  eachKept(headers, DROPPED_RESPONSE, (name, value) => (out[name] = value));
  return out;
}

/** Sets the relayable upstream response headers on `res` without an intermediate object. */
export function relayResponseHeaders(
  headers: Record<string, HeaderValue>,
  res: { setHeader(name: string, value: string | string[]): unknown },
): void {
  eachKept(headers, DROPPED_RESPONSE, (name, value) => res.setHeader(name, value));
}
