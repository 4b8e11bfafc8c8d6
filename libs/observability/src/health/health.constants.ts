/** How long one readiness check may take before it counts as down. */
export const READINESS_CHECK_TIMEOUT_MS = 1500;

/** Check name of the app's own database in the readiness body and `keel_dependency_up`. */
export const DATABASE_CHECK = 'database';

/** Check name of Redis in the readiness body and `keel_dependency_up`. */
export const REDIS_CHECK = 'redis';
