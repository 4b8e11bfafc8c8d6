/**
 * The platform's header names, lower case as Node.js reports them, in one place: every
 * library and app reads and writes them through these (CONTRACT §3, §5, §6, §7). Kept free of
 * imports so the tracing entry point may deep-import it.
 */

/** Correlation id of a request, echoed on every response and passed downstream. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** Shared secret of `/internal/*` calls between services. */
export const INTERNAL_TOKEN_HEADER = 'x-internal-token';
/** The client address an edge app vouches for (with the internal token) to the services. */
export const CLIENT_IP_HEADER = 'x-keel-client-ip';
/** Asks an app to misbehave on purpose (`CHAOS_ENABLED`). */
export const CHAOS_HEADER = 'x-chaos';
/** Seconds to wait before retrying a 429 or 503. */
export const RETRY_AFTER_HEADER = 'retry-after';
/** Requests a client may make in the limiter's window. */
export const RATE_LIMIT_LIMIT_HEADER = 'x-ratelimit-limit';
/** Requests left in the current window. */
export const RATE_LIMIT_REMAINING_HEADER = 'x-ratelimit-remaining';
/** Seconds until the window resets. */
export const RATE_LIMIT_RESET_HEADER = 'x-ratelimit-reset';
/** The rate-limit headers, as CORS exposes them. */
export const RATE_LIMIT_HEADERS = [
  RATE_LIMIT_LIMIT_HEADER,
  RATE_LIMIT_REMAINING_HEADER,
  RATE_LIMIT_RESET_HEADER,
] as const;
