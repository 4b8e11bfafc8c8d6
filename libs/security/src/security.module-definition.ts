/**
 * Injection token of the {@link SecurityModuleOptions} given to `forRoot`. There is no
 * `forRootAsync`: the options decide which providers exist (limiters, the token guard, the
 * revocation list), so they must be known when the module is defined, and the app's
 * configuration is validated before the app is created anyway (docs/decisions.md, #12).
 */
export const SECURITY_OPTIONS = Symbol.for('keel.security-options');
