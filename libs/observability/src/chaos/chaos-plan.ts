import { MAX_CHAOS_ENTRIES, MAX_CHAOS_LATENCY_MS } from './chaos.constants';

/** How an app fails on purpose: `error` answers 500 from inside the handler (CONTRACT §7). */
export type ChaosFault = 'error';

/** What `x-chaos` asks of one app: a delay first, then possibly a fault. */
export interface ChaosPlan {
  latencyMs: number;
  fault: ChaosFault | undefined;
  /** Entries that were not understood (another mode, a bad delay): ignored, to be logged. */
  ignored: string[];
}

const ENTRY = /^([A-Za-z0-9._-]{1,64})\s*=\s*([a-z]+)(?::(\d{1,9}))?$/;
/** How much of an ignored entry is kept for the log line. */
const MAX_IGNORED_LENGTH = 80;

/**
 * Reads the part of an `x-chaos` header (`orders-service=error, edge=latency:200`) that
 * names `app`. Only `error` and `latency:<ms>` (cut to 10 s) exist; any other mode, and any
 * entry that cannot be read, is ignored — never an error, the header comes from clients — and
 * listed in `ignored`. Entries for other apps are theirs. Several entries for the same app
 * combine (one delay, the fault). `undefined` when nothing concerns `app`.
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
    .slice(0, MAX_CHAOS_ENTRIES)
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  const wanted = app.toLowerCase();
  let plan: ChaosPlan | undefined;
  const concern = (): ChaosPlan => (plan ??= { latencyMs: 0, fault: undefined, ignored: [] });
  for (const entry of entries) {
    const match = ENTRY.exec(entry);
    if (!match) {
      concern().ignored.push(entry.slice(0, MAX_IGNORED_LENGTH));
      continue;
    }
    if (match[1].toLowerCase() !== wanted) {
      continue;
    }
    const [, , mode, arg] = match;
    if (mode === 'latency' && arg !== undefined) {
      concern().latencyMs = Math.min(Number(arg), MAX_CHAOS_LATENCY_MS);
    } else if (mode === 'error' && arg === undefined) {
      concern().fault = 'error';
    } else {
      concern().ignored.push(entry.slice(0, MAX_IGNORED_LENGTH));
    }
  }
  return plan;
}
