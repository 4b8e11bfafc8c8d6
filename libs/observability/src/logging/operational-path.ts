/**
 * Operational routes (`/health/*`, `/metrics`) are neither access-logged nor traced as
 * business requests (CONTRACT §4). Kept free of imports: the tracing entry point uses it
 * before any framework module loads.
 */
export function isOperationalPath(url: string | undefined): boolean {
  return (
    url !== undefined &&
    (url.startsWith('/health/') || url === '/metrics' || url.startsWith('/metrics?'))
  );
}
