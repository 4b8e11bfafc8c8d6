import { applyDecorators, SetMetadata } from '@nestjs/common';
import { SkipThrottle as SkipNamedThrottlers } from '@nestjs/throttler';
import { SKIP_ALL_THROTTLERS_KEY } from './throttling.constants';

/**
 * Exempts a route or controller from rate limiting: from every limiter when called without
 * names, else from the named ones (`@SkipThrottle(['global'])`).
 */
export function SkipThrottle(limiters?: string[]): MethodDecorator & ClassDecorator {
  if (limiters === undefined) {
    return SetMetadata(SKIP_ALL_THROTTLERS_KEY, true);
  }
  return applyDecorators(
    SkipNamedThrottlers(Object.fromEntries(limiters.map((name) => [name, true]))),
  );
}

export { Throttle } from '@nestjs/throttler';
