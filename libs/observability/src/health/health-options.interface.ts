/** An HTTP dependency whose `GET <url>/health/live` must answer 2xx for readiness. */
export interface ReadinessUpstream {
  /** Check name in the readiness body (`auth-service`). */
  name: string;
  /** Base URL (`http://127.0.0.1:3001`). */
  url: string;
}

/** Readiness dependencies beyond the database (which is found by itself when present). */
export interface HealthOptions {
  /** Checked with `PING` when set (CONTRACT: "Redis when configured"). */
  redisUrl?: string;
  /** The gateway's upstream services. */
  upstreams?: ReadinessUpstream[];
}
