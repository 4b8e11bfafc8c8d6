import { MAX_CHAOS_ENTRIES, MAX_CHAOS_LATENCY_MS } from './chaos.constants';

/**
 * How an app fails on purpose:
 * - `error`: the request fails with a 500 (an unknown error, reported like a real bug);
 * - `reject`: the request is served, then an unhandled promise rejection ends the process;
 * - `crash`: the request is served, then an uncaught exception ends the process.
 */
export type ChaosFault = 'error' | 'reject' | 'crash';

/** What `x-chaos` asks of one app: a delay first, then possibly a fault. */
export interface ChaosPlan {
  latencyMs: number;
  fault: ChaosFault | undefined;
}

const FAULTS: readonly string[] = ['error', 'reject', 'crash'];
const ENTRY = /^([A-Za-z0-9._-]{1,64})\s*=\s*([a-z]+)(?::(\d{1,9}))?$/;

/**
 * Reads the part of an `x-chaos` header (`users-service=error, api-gateway=latency:200`) that
 * names `app`. Entries for other apps and malformed entries are ignored, never an error: the
 * header comes from clients. Several entries for the same app combine (one delay, the last
 * fault). `undefined` when nothing applies to `app`.
 */
export function parseChaosHeader(
  header: string | string[] | undefined,
  app: string,
): ChaosPlan | undefined {
  if (header === undefined) {
    return undefined;
  }
  const entries = (Array.isArray(header) ? header.join(',') : header)
    .split(',')
    .slice(0, MAX_CHAOS_ENTRIES);
  const wanted = app.toLowerCase();
  let plan: ChaosPlan | undefined;
  for (const entry of entries) {
    const match = ENTRY.exec(entry.trim());
    if (!match || match[1].toLowerCase() !== wanted) {
      continue;
    }
    const [, , mode, arg] = match;
    if (mode === 'latency' && arg !== undefined) {
      plan ??= { latencyMs: 0, fault: undefined };
      plan.latencyMs = Math.min(Number(arg), MAX_CHAOS_LATENCY_MS);
    } else if (FAULTS.includes(mode) && arg === undefined) {
      plan ??= { latencyMs: 0, fault: undefined };
      plan.fault = mode as ChaosFault;
    }
  }
  return plan;
}
