/** How long one readiness check may take before it counts as down. */
export const READINESS_CHECK_TIMEOUT_MS = 1500;
