import { type KeySource } from './auth/access-token.verifier';

/** Options of {@link SecurityModule}. */
export interface SecurityModuleOptions {
  /** Origins allowed by CORS; empty means no CORS headers at all. */
  corsOrigins: string[];
  /**
   * Where access-token keys come from. When set, the module registers the global
   * {@link JwtAuthGuard}; an app that signs its own tokens registers the guard itself.
   */
  auth?: KeySource;
}
