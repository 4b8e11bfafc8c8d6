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
      // auth-service's revocation feed, polled several times a second by every replica:
      // housekeeping like a scrape (it still needs the internal token).
      url.startsWith('/internal/revocations?') ||
      url === '/internal/revocations')
  );
}
