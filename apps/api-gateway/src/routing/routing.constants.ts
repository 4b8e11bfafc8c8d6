/** Injection token of the gateway's {@link RouteTable}, built once from the registry. */
export const ROUTE_TABLE = Symbol('KEEL_GATEWAY_ROUTE_TABLE');
