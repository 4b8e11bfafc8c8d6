import { parseDuration } from '../config/duration';

/**
 * The platform's one list of services (`services.json` at the repository root): every
 * place that used to hold its own app list, port map or route table reads it through
 * `parseServiceRegistry`. The libraries know this shape, never its contents.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type RouteAuth = 'public' | 'bearer';
export type RouteParamType = 'uuid' | 'int' | 'slug';

/** One public route: `<apiPrefix><path>` at the gateway, forwarded to `<path>` upstream. */
export interface RegistryRoute {
  method: HttpMethod;
  /**
   * Route template, e.g. `/orders/:id`. A final `/*` makes it a prefix: every path below it
   * is forwarded (the upstream's own strict routing answers 404 for the rest).
   */
  path: string;
  auth: RouteAuth;
  /** Roles the bearer must hold, checked at the edge. */
  roles: string[];
  /** Gateway limiters (besides the global one) that guard this route, by name. */
  limits: string[];
  /** Type of each `:param`; the gateway answers 400 itself for a value of another shape. */
  params: Record<string, RouteParamType>;
}

export interface RegistryService {
  name: string;
  kind: 'gateway' | 'service';
  port: number;
  /** Owns a database (SQLite file or a PostgreSQL database named after the service). */
  database: boolean;
  /** Services it calls over HTTP (network policies, URLs it reads, readiness report). */
  calls: string[];
  /** How long the gateway waits for it: connect and response (headers, then each chunk). */
  upstream: { connectTimeoutMs: number; timeoutMs: number };
  /** Optional latency SLO: share of requests under the threshold. */
  latencySlo?: { thresholdSeconds: number; objective: number };
  routes: RegistryRoute[];
  /** `ORDERS_SERVICE` for `orders-service`: the stem of its variables (`ORDERS_SERVICE_URL`, …). */
  envStem: string;
}

export interface ServiceRegistry {
  apiPrefix: string;
  services: RegistryService[];
  /** The entry of `name`; throws when the registry has no such service. */
  service(name: string): RegistryService;
  /** The one service of kind `gateway`. */
  gateway(): RegistryService;
  /** Every service the gateway routes to (kind `service`), in registry order. */
  upstreams(): RegistryService[];
}

export class ServiceRegistryError extends Error {
  constructor(readonly problems: string[]) {
    super(`services.json is invalid:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ServiceRegistryError';
  }
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const METHODS: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const PARAM_TYPES: readonly RouteParamType[] = ['uuid', 'int', 'slug'];
const SEGMENT = /^([a-z0-9][a-z0-9._-]*|:[a-zA-Z][a-zA-Z0-9]*)$/;

/** `ORDERS_SERVICE` for `orders-service`. */
export function envStem(name: string): string {
  return name.toUpperCase().replace(/-/g, '_');
}

/** Validates the parsed JSON of `services.json`; throws `ServiceRegistryError` naming every problem. */
export function parseServiceRegistry(raw: unknown): ServiceRegistry {
  const problems: string[] = [];
  const root = isObject(raw) ? raw : {};
  if (!isObject(raw)) {
    problems.push('the top level must be an object');
  }
  const apiPrefix = typeof root.apiPrefix === 'string' ? root.apiPrefix : '';
  if (!/^(\/[a-z0-9]+)+$/.test(apiPrefix)) {
    problems.push('apiPrefix must be lower-case /segments, such as /api/v2');
  }
  const list = Array.isArray(root.services) ? root.services : [];
  if (list.length === 0) {
    problems.push('services must be a non-empty array');
  }
  const services = list.map((entry, index) => parseService(entry, index, problems));

  const names = new Set<string>();
  const ports = new Map<number, string>();
  const publicRoutes = new Map<string, string>();
  for (const service of services) {
    if (names.has(service.name)) {
      problems.push(`${service.name}: the name is used twice`);
    }
    names.add(service.name);
    const owner = ports.get(service.port);
    if (owner !== undefined) {
      problems.push(`${service.name}: port ${service.port} is already ${owner}'s`);
    }
    ports.set(service.port, service.name);
    for (const route of service.routes) {
      const key = `${route.method} ${route.path.replace(/:[^/]+/g, ':')}`;
      const other = publicRoutes.get(key);
      if (other !== undefined) {
        problems.push(
          `${service.name}: ${route.method} ${route.path} is already routed to ${other}`,
        );
      }
      publicRoutes.set(key, service.name);
    }
  }
  for (const service of services) {
    for (const callee of service.calls) {
      if (!names.has(callee)) {
        problems.push(`${service.name}: calls unknown service ${callee}`);
      }
    }
  }
  const gateways = services.filter((service) => service.kind === 'gateway');
  if (gateways.length !== 1) {
    problems.push(`exactly one service must be of kind gateway (found ${gateways.length})`);
  }
  for (const gateway of gateways) {
    if (gateway.routes.length > 0) {
      problems.push(`${gateway.name}: the gateway routes to others and has no routes of its own`);
    }
  }
  if (problems.length > 0) {
    throw new ServiceRegistryError(problems);
  }

  const byName = new Map(services.map((service) => [service.name, service]));
  return {
    apiPrefix,
    services,
    service(name: string): RegistryService {
      const found = byName.get(name);
      if (!found) {
        throw new ServiceRegistryError([`no service named ${name}`]);
      }
      return found;
    },
    gateway: () => gateways[0],
    upstreams: () => services.filter((service) => service.kind === 'service'),
  };
}

function parseService(raw: unknown, index: number, problems: string[]): RegistryService {
  const entry = isObject(raw) ? raw : {};
  const name = typeof entry.name === 'string' && NAME.test(entry.name) ? entry.name : `#${index}`;
  const fail = (text: string): void => {
    problems.push(`${name}: ${text}`);
  };
  if (name.startsWith('#')) {
    fail('name must be lower-case words joined by "-" (e.g. orders-service)');
  }
  const kind = entry.kind === 'gateway' || entry.kind === 'service' ? entry.kind : 'service';
  if (entry.kind !== kind) {
    fail('kind must be "gateway" or "service"');
  }
  const port = entry.port;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1024 || port > 65535) {
    fail('port must be an integer from 1024 to 65535');
  }
  if (typeof entry.database !== 'boolean') {
    fail('database must be true or false');
  }
  const calls = stringList(entry.calls, 'calls', fail);
  const upstreamRaw = isObject(entry.upstream) ? entry.upstream : {};
  const duration = (key: string, fallback: string): number => {
    const text = upstreamRaw[key] ?? fallback;
    const ms = typeof text === 'string' ? parseDuration(text) : undefined;
    if (ms === undefined) {
      fail(`upstream.${key} must be a duration such as 1s or 500ms`);
      return 0;
    }
    return ms;
  };
  const upstream = {
    connectTimeoutMs: duration('connectTimeout', '1s'),
    timeoutMs: duration('timeout', '10s'),
  };
  let latencySlo: RegistryService['latencySlo'];
  if (entry.latencySlo !== undefined) {
    const slo = isObject(entry.latencySlo) ? entry.latencySlo : {};
    const { thresholdSeconds, objective } = slo;
    if (
      typeof thresholdSeconds !== 'number' ||
      thresholdSeconds <= 0 ||
      typeof objective !== 'number' ||
      objective <= 0 ||
      objective >= 1
    ) {
      fail('latencySlo needs thresholdSeconds > 0 and 0 < objective < 1');
    } else {
      latencySlo = { thresholdSeconds, objective };
    }
  }
  const routesRaw = entry.routes === undefined ? [] : entry.routes;
  if (!Array.isArray(routesRaw)) {
    fail('routes must be an array');
  }
  const routes = (Array.isArray(routesRaw) ? routesRaw : []).map((route, i) =>
    parseRoute(route, (text) => fail(`routes[${i}]: ${text}`)),
  );
  return {
    name,
    kind,
    port: typeof port === 'number' ? port : 0,
    database: entry.database === true,
    calls,
    upstream,
    ...(latencySlo ? { latencySlo } : {}),
    routes,
    envStem: envStem(name),
  };
}

function parseRoute(raw: unknown, fail: (text: string) => void): RegistryRoute {
  const entry = isObject(raw) ? raw : {};
  const method = METHODS.find((m) => m === entry.method);
  if (!method) {
    fail(`method must be one of ${METHODS.join(', ')}`);
  }
  const path = typeof entry.path === 'string' ? entry.path : '';
  const segments = path.replace(/\/\*$/, '').split('/').slice(1);
  if (!path.startsWith('/') || segments.length === 0 || !segments.every((s) => SEGMENT.test(s))) {
    fail(
      `path ${JSON.stringify(path)} must be /segments, lower case, :params, optionally ending in /*`,
    );
  }
  if (entry.auth !== 'public' && entry.auth !== 'bearer') {
    fail('auth must be "public" or "bearer"');
  }
  const auth: RouteAuth = entry.auth === 'public' ? 'public' : 'bearer';
  const roles = stringList(entry.roles, 'roles', fail);
  if (roles.length > 0 && auth === 'public') {
    fail('a public route cannot require roles');
  }
  const limits = stringList(entry.limits, 'limits', fail);
  const params: Record<string, RouteParamType> = {};
  const declared = isObject(entry.params) ? entry.params : {};
  if (entry.params !== undefined && !isObject(entry.params)) {
    fail('params must be an object of name: type');
  }
  const names = segments.filter((s) => s.startsWith(':')).map((s) => s.slice(1));
  for (const [key, type] of Object.entries(declared)) {
    const known = PARAM_TYPES.find((t) => t === type);
    if (!names.includes(key)) {
      fail(`params.${key} is not a :param of the path`);
    } else if (!known) {
      fail(`params.${key} must be one of ${PARAM_TYPES.join(', ')}`);
    } else {
      params[key] = known;
    }
  }
  for (const param of names) {
    params[param] ??= 'slug';
  }
  return { method: method ?? 'GET', path, auth, roles, limits, params };
}

function stringList(value: unknown, field: string, fail: (text: string) => void): string[] {
  if (value === undefined) {
    return [];
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item !== '')) {
    fail(`${field} must be an array of non-empty strings`);
    return [];
  }
  return (value as string[]).slice();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What `readServiceUrl` needs of an env reader (the platform's `EnvReader`). */
interface UrlReader {
  url(name: string, fallback: string | undefined, protocols: string[]): string | undefined;
}

/**
 * Where `service` answers: `<ENV_STEM>_URL` (e.g. `ORDERS_SERVICE_URL`), by default
 * `http://127.0.0.1:<its registry port>`.
 */
export function readServiceUrl(r: UrlReader, service: RegistryService): string {
  return r.url(`${service.envStem}_URL`, `http://127.0.0.1:${service.port}`, ['http', 'https'])!;
}

/** `path` (starting with `/`) on the service at `baseUrl`; a trailing slash of the base is tolerated. */
export function serviceEndpoint(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${path}`;
}
