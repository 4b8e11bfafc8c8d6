/**
 * Buckets of every duration histogram: fine below the 100 ms SLA, coarse up to 5 s
 * (CONTRACT §5 asks for 0.005 … 0.1 … 5).
 */
export const DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5,
];

/** `route` label of requests that matched no route (404s, body-parser rejections). */
export { UNMATCHED_ROUTE } from '@keel/platform/http/route-template';

/**
 * `status_code` of requests whose client went away before the response was complete, as
 * nginx counts them.
 */
export const CLIENT_CLOSED_STATUS = '499';

export const METRICS_PATH = '/metrics';
