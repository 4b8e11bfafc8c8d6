/**
 * Injection token of the {@link ObservabilityModuleOptions} given to `forRoot`. There is no
 * `forRootAsync`: the options decide which providers and imports exist (logger, chaos
 * interceptor, readiness checks), so they must be known when the module is defined, and the
 * app's configuration is validated before the app is created anyway (docs/decisions.md, #12).
 */
export const OBSERVABILITY_OPTIONS = Symbol.for('keel.observability-options');
