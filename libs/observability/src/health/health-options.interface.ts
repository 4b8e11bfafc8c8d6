/**
 * An HTTP dependency probed with `GET <url>/health/live`; reported in the readiness body and
 * as `keel_dependency_up`, never a reason for 503.
 */
export interface ReadinessUpstream {
  /** Check name in the readiness body (the service's registry name). */
  name: string;
  /** Base URL (`http://127.0.0.1:4000`). */
  url: string;
}

/**
 * Shared dependencies to report beyond the database (which is found by itself when present
 * and is the only one that decides readiness).
 */
export interface HealthOptions {
  /** Probed with `PING` when set. */
  redisUrl?: string;
  /** HTTP services this app calls (an edge app's upstreams). */
  upstreams?: ReadinessUpstream[];
}
