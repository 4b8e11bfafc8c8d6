/**
 * Path of the platform's session-revocation feed (`GET ?since=<epoch ms>`, internal token
 * required): a protocol of `@keel/security`, like `/health/*`, not a route of one app. The
 * service that owns sessions serves it; the others are told its full URL in their options.
 */
export const REVOCATION_FEED_PATH = '/internal/revocations';

/**
 * Operational routes (`/health/*`, `/metrics`, CONTRACT §4): not rate limited, not behind a
 * bearer token, not access-logged, traced, counted or reported as business requests. The one
 * predicate every library asks. Kept free of imports: the tracing entry point deep-imports it
 * before any framework module loads.
 */
export function isOperationalPath(url: string | undefined): boolean {
  return (
    url !== undefined &&
    (url.startsWith('/health/') ||
      url === '/metrics' ||
      url.startsWith('/metrics?') ||
      // The revocation feed, polled several times a second by every replica: housekeeping
      // like a scrape (it still needs the internal token).
      url.startsWith(`${REVOCATION_FEED_PATH}?`) ||
      url === REVOCATION_FEED_PATH)
  );
}
