const UNITS_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Parses a duration such as `900s`, `100ms`, `1m`, `2h` or `30d` into milliseconds.
 * A bare number is read as seconds, as in the contract's examples. Returns `undefined`
 * when the text is not a positive duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!match) {
    return undefined;
  }
  const value = Number(match[1]) * UNITS_MS[match[2] ?? 's'];
  return value > 0 && Number.isFinite(value) ? Math.round(value) : undefined;
}

/** A rate limit written `<count>/<window>`, e.g. `5/300s` or `100/1m`. */
export interface Rate {
  limit: number;
  windowMs: number;
}

/** Parses `<count>/<window>`; `undefined` when malformed. */
export function parseRate(text: string): Rate | undefined {
  const match = /^\s*(\d+)\s*\/\s*(.+)$/.exec(text);
  if (!match) {
    return undefined;
  }
  const limit = Number(match[1]);
  const windowMs = parseDuration(match[2]);
  if (!Number.isSafeInteger(limit) || limit < 1 || windowMs === undefined) {
    return undefined;
  }
  return { limit, windowMs };
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** Parses a size such as `100kb`, `1mb` or `512` (bytes). */
export function parseBytes(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(text);
  if (!match) {
    return undefined;
  }
  const value = Math.floor(Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()]);
  return value > 0 ? value : undefined;
}
