export * from './security-options.interface';
export * from './security.module';
export { SECURITY_OPTIONS } from './security.module-definition';
export * from './validation/validation-pipe.factory';
export * from './validation/json-body.constants';
export * from './headers/request-security.middleware';
export * from './headers/security-headers';
export * from './auth/access-token.verifier';
export * from './auth/auth.constants';
export * from './auth/authenticated-user';
export * from './auth/current-user.decorator';
export * from './auth/jwt-auth.guard';
export * from './auth/public.decorator';
export * from './auth/roles.decorator';
export * from './throttling/client-key';
export * from './throttling/contract-rate-limiters';
export * from './throttling/fail-open-redis.store';
export * from './throttling/memory-rate-limit.store';
export * from './throttling/rate-limit.guard';
export * from './throttling/rate-limit.store';
export * from './throttling/request-limiter';
export * from './throttling/throttle.decorators';
export {
  AUTH_LIMITER,
  GLOBAL_LIMITER,
  LOGIN_ACCOUNT_LIMITER,
  RATE_LIMIT_STORE,
  SERVICE_LIMITER,
} from './throttling/throttling.constants';
export * from './throttling/throttling-options.interface';
export * from './auth/jwks-key-source';
export * from './internal/internal-token.guard';
export * from './sessions/http-revocation-feed';
export * from './sessions/revocation-list';
