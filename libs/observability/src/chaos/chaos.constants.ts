/** The request header that asks an app to misbehave (CONTRACT §7). */
export { CHAOS_HEADER } from '@keel/platform/http/headers';
/** Longest delay `latency:<ms>` may ask for; larger values are cut to this. */
export const MAX_CHAOS_LATENCY_MS = 10_000;
/** Entries past this many in one header are ignored (a header is not a program). */
export const MAX_CHAOS_ENTRIES = 16;
