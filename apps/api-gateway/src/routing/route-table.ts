import {
  type HttpMethod,
  type RegistryRoute,
  type RouteAuth,
  type RouteParamType,
  type ServiceRegistry,
} from '@keel/platform';
import { LOGIN_ACCOUNT_LIMITER, type RateLimiterDefinition } from '@keel/security';

/** One segment of a route template: a literal, or a typed `:param`. */
type Segment = { literal: string } | { param: string; type: RouteParamType };

/** A registry route as the gateway serves it, compiled once at start. */
export interface GatewayRoute {
  method: HttpMethod;
  /** The public template (`/api/v1/users/:id`, `/api/v1/orders/*`): metrics label, span name. */
  template: string;
  /** The registry service the route forwards to. */
  upstream: string;
  auth: RouteAuth;
  roles: readonly string[];
  /** Limiters in the order they apply: those counting every request, then reservations. */
  limiters: readonly RateLimiterDefinition[];
  /** The route names the `login-account` limiter: a login route. */
  countsLogins: boolean;
  /** Segments after the API prefix (`users`, `:id`). */
  segments: readonly Segment[];
  /** Ends in `/*`: every path below `segments` is forwarded. */
  prefix: boolean;
}

/** What a request path resolved to. */
export type RouteMatch =
  | { route: GatewayRoute; upstreamPath: string; badParam?: undefined }
  /** The route matched but a param has the wrong shape: 400 with this message. */
  | { route: GatewayRoute; upstreamPath?: undefined; badParam: string };

const PARAM_SHAPES: Record<RouteParamType, { test: RegExp; expected: string }> = {
  uuid: {
    test: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
    expected: 'uuid is expected',
  },
  int: { test: /^(0|[1-9][0-9]{0,15})$/, expected: 'numeric string is expected' },
  slug: { test: /^[A-Za-z0-9][A-Za-z0-9._~-]{0,199}$/, expected: 'slug is expected' },
};

/**
 * The gateway's routes, built once from the registry: for every service of kind `service`,
 * each route `<apiPrefix><path>` is forwarded to `<path>` on that service, with the real
 * param values. Matching is on the raw path, case-sensitive, segment by segment: a trailing
 * slash, a doubled slash, another case or a percent-encoded spelling of a literal segment
 * matches nothing (404), so no spelling reaches a route other than its own. Literal segments
 * win over params (`/users/me` before `/users/:id`), exact routes over prefix routes. A HEAD
 * request is served by the GET route of its path.
 */
export class RouteTable {
  readonly routes: readonly GatewayRoute[];
  private readonly apiSegments: readonly string[];
  /** Per method, routes in match order (most specific first). */
  private readonly byMethod = new Map<string, GatewayRoute[]>();

  /**
   * @param global the limiter every route passes through first.
   * @param named the limiters a route may name in `limits`; an unknown name throws.
   */
  constructor(
    registry: ServiceRegistry,
    global: RateLimiterDefinition,
    named: ReadonlyMap<string, RateLimiterDefinition>,
  ) {
    this.apiSegments = registry.apiPrefix.split('/').slice(1);
    const unknown: string[] = [];
    const routes: GatewayRoute[] = [];
    for (const service of registry.upstreams()) {
      for (const route of service.routes) {
        const limiters = [global];
        for (const name of route.limits) {
          const limiter = named.get(name);
          if (limiter) {
            limiters.push(limiter);
          } else {
            unknown.push(`${service.name} ${route.method} ${route.path}: "${name}"`);
          }
        }
        routes.push(compile(registry.apiPrefix, service.name, route, orderLimiters(limiters)));
      }
    }
    if (unknown.length > 0) {
      throw new Error(
        `services.json names limiters the gateway does not have (known: ${[...named.keys()].join(', ')}):\n  - ${unknown.join('\n  - ')}`,
      );
    }
    this.routes = routes;
    for (const route of routes) {
      const list = this.byMethod.get(route.method) ?? [];
      list.push(route);
      this.byMethod.set(route.method, list);
    }
    for (const list of this.byMethod.values()) {
      list.sort(bySpecificity);
    }
  }

  /** The route serving `method` on the raw `path` (no query string), or undefined (404). */
  match(method: string, path: string): RouteMatch | undefined {
    const candidates = this.byMethod.get(method === 'HEAD' ? 'GET' : method);
    if (candidates === undefined) {
      return undefined;
    }
    const parts = path.split('/');
    // parts[0] is '' for an absolute path; then the API prefix, literally.
    if (parts[0] !== '' || parts.length <= this.apiSegments.length + 1) {
      return undefined;
    }
    for (let i = 0; i < this.apiSegments.length; i++) {
      if (parts[i + 1] !== this.apiSegments[i]) {
        return undefined;
      }
    }
    const rest = parts.slice(this.apiSegments.length + 1);
    for (const route of candidates) {
      const found = matchRoute(route, rest);
      if (found !== undefined) {
        return found;
      }
    }
    return undefined;
  }
}

function orderLimiters(limiters: RateLimiterDefinition[]): RateLimiterDefinition[] {
  return [
    ...limiters.filter((limiter) => !limiter.countStatuses),
    ...limiters.filter((limiter) => limiter.countStatuses),
  ];
}

function compile(
  apiPrefix: string,
  upstream: string,
  route: RegistryRoute,
  limiters: RateLimiterDefinition[],
): GatewayRoute {
  const prefix = route.path.endsWith('/*');
  const base = prefix ? route.path.slice(0, -2) : route.path;
  const segments: Segment[] = base
    .split('/')
    .slice(1)
    .map((part) =>
      part.startsWith(':')
        ? { param: part.slice(1), type: route.params[part.slice(1)] ?? 'slug' }
        : { literal: part },
    );
  return {
    method: route.method,
    template: apiPrefix + route.path,
    upstream,
    auth: route.auth,
    roles: route.roles,
    limiters,
    countsLogins: route.limits.includes(LOGIN_ACCOUNT_LIMITER),
    segments,
    prefix,
  };
}

/** Literal before param, segment by segment; exact routes before prefix routes. */
function bySpecificity(a: GatewayRoute, b: GatewayRoute): number {
  const length = Math.min(a.segments.length, b.segments.length);
  for (let i = 0; i < length; i++) {
    const kindA = 'literal' in a.segments[i] ? 0 : 1;
    const kindB = 'literal' in b.segments[i] ? 0 : 1;
    if (kindA !== kindB) {
      return kindA - kindB;
    }
  }
  if (a.prefix !== b.prefix) {
    return a.prefix ? 1 : -1;
  }
  // Of two prefixes, the longer one is the more specific.
  return b.segments.length - a.segments.length;
}

function matchRoute(route: GatewayRoute, parts: string[]): RouteMatch | undefined {
  const { segments } = route;
  if (route.prefix ? parts.length <= segments.length : parts.length !== segments.length) {
    return undefined;
  }
  let upstreamPath = '';
  let badParam: string | undefined;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const part = parts[i];
    if ('literal' in segment) {
      if (part !== segment.literal) {
        return undefined;
      }
      upstreamPath += `/${part}`;
      continue;
    }
    if (part === '') {
      return undefined;
    }
    const value = decodeSegment(part);
    const shape = PARAM_SHAPES[segment.type];
    if (value === undefined || !shape.test.test(value)) {
      badParam ??= `Validation failed (${shape.expected})`;
      continue;
    }
    upstreamPath += `/${encodeURIComponent(value)}`;
  }
  if (route.prefix) {
    const below = parts.slice(segments.length);
    if (!below.every(isPlainSegment)) {
      return undefined;
    }
    upstreamPath += `/${below.join('/')}`;
  }
  return badParam === undefined ? { route, upstreamPath } : { route, badParam };
}

/**
 * A segment below a prefix route is forwarded as sent, so it must stay one segment with the
 * same meaning upstream: not empty, not a dot segment, no encoded slash or backslash.
 */
function isPlainSegment(part: string): boolean {
  const value = decodeSegment(part);
  return (
    value !== undefined &&
    value !== '' &&
    value !== '.' &&
    value !== '..' &&
    !value.includes('/') &&
    !value.includes('\\')
  );
}

function decodeSegment(part: string): string | undefined {
  if (!part.includes('%')) {
    return part;
  }
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
