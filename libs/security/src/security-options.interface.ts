import { type KeySource } from './auth/access-token.verifier';
import { type RevocationFeed } from './sessions/revocation-list';
import {
  type RateLimiterDefinition,
  type ThrottlingOptions,
} from './throttling/throttling-options.interface';

/** Options of {@link SecurityModule}. */
export interface SecurityModuleOptions {
  /** Origins allowed by CORS; empty means no CORS headers at all. */
  corsOrigins: string[];
  /** Largest request body in bytes (`BODY_LIMIT`); default 100 KiB. */
  bodyLimitBytes?: number;
  /**
   * Where access-token keys come from. When set, the module registers the global
   * {@link JwtAuthGuard}; an app that signs its own tokens registers the guard itself.
   */
  auth?: KeySource;
  /** Where revoked sessions are learnt (with `auth`); unset: only revocations made in-process. */
  revocationFeed?: RevocationFeed;
  /** Rate limits; when set, the module registers the global {@link RateLimitGuard}. */
  throttling?: ThrottlingOptions;
}

/** What an app declares to `SecurityModule.forApp` beside its configuration. */
export interface SecurityAppOptions {
  /** The limiters that guard this app's routes. */
  limiters: RateLimiterDefinition[];
  /** Where access-token keys come from (e.g. `{ jwksUrl }`); unset: the app checks nothing. */
  auth?: KeySource;
  /** Full URL of the revocation feed to poll (with `auth`); unset: in-process revocations only. */
  revocationFeedUrl?: string;
}
