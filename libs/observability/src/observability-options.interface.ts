import { type AdmissionOptions } from './admission/admission.options';
import { type HealthOptions } from './health/health-options.interface';

/** Options of {@link ObservabilityModule}. */
export interface ObservabilityModuleOptions {
  /** `service` on every log line and metric, `service.name` on spans. */
  serviceName: string;
  /** Package version, for `service.version` and Sentry's release. */
  version: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  logFormat: 'json' | 'pretty';
  /** Readiness dependencies: Redis when configured, the gateway's upstreams. */
  health?: HealthOptions;
  /** `CHAOS_ENABLED`: honour the `x-chaos` header (CONTRACT §7); never in production. */
  chaosEnabled?: boolean;
  /** The app's Sentry settings (`config.sentry`); Sentry itself starts in instrument.ts. */
  sentry?: { dsn: string | undefined; environment: string; release: string };
  /** Load shedding (`SHED_*`); defaults in {@link DEFAULT_ADMISSION}. */
  admission?: Partial<AdmissionOptions>;
}
