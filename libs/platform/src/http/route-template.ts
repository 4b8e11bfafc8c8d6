/** What Express leaves on a request once a route matched it. */
interface RoutedRequest {
  route?: { path?: unknown };
  baseUrl?: string;
}

/**
 * The route template that served a request (`/orders/:id`), never the raw path, or
 * `undefined` while none matched. The one answer for the metric's `route` label, the server
 * span's name, the limiters' route, the Sentry `route` tag and the access log. Nest registers
 * `forRoutes('*')` middleware as an Express route `/{*path}`, which stays in `req.route` when
 * no controller route matches afterwards: such a template means "unmatched" too. Kept free of
 * imports: the tracing entry point deep-imports it before any framework module loads.
 */
export function routeTemplate(req: object): string | undefined {
  const routed = req as RoutedRequest;
  const path = routed.route?.path;
  if (typeof path !== 'string' || path.includes('{*path}')) {
    return undefined;
  }
  return `${routed.baseUrl ?? ''}${path}`;
}

/** The `route` label/tag of requests no route matched (404s, early rejections). */
export const UNMATCHED_ROUTE = 'unmatched';
