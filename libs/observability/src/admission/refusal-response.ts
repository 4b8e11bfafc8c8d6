import { type ServerResponse } from 'node:http';
import { staticSecurityHeaders } from '@keel/security';
import { errorBody, RETRY_AFTER_HEADER } from '@keel/platform';
import { type ServiceOverloadedException } from './service-overloaded.exception';

let securityHeaders: ReadonlyArray<[string, string]> | undefined;

/**
 * Answers a refused request at once, from the server's `request` event, before Express,
 * Nest's middleware, guards and exception filter spend any work on it: 503, `Retry-After`,
 * the security headers every answer carries (helmet's, computed once), `x-request-id`
 * (already set) and the contract's error body. Past capacity most requests take this path,
 * so its cost decides whether the process keeps up with refusing (a refusal through the whole
 * chain cost about as much as serving a cheap request).
 */
export function writeRefusal(
  res: ServerResponse,
  refusal: ServiceOverloadedException,
  requestId: string,
  traceId: string,
): void {
  securityHeaders ??= staticSecurityHeaders();
  for (const [name, value] of securityHeaders) {
    res.setHeader(name, value);
  }
  const text = JSON.stringify(errorBody(refusal.status, refusal.message, requestId, traceId));
  res.statusCode = refusal.status;
  res.setHeader(RETRY_AFTER_HEADER, String(refusal.retryAfterSeconds));
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}
