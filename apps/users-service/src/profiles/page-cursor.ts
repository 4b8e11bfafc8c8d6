/** Position after the last row of a page in the (created_at, id) order. */
export interface PageCursor {
  createdAt: Date;
  id: string;
}

const BASE64URL = /^[A-Za-z0-9_-]{1,256}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MILLIS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The cursor is opaque to clients: base64url of `[createdAt, id]`. Clients must not build
 * one, so its form may change; only the pair it carries is part of the ordering.
 */
export function encodePageCursor(cursor: PageCursor): string {
  return Buffer.from(JSON.stringify([cursor.createdAt.toISOString(), cursor.id])).toString(
    'base64url',
  );
}

/** The cursor's position, or `undefined` for anything this service did not issue. */
export function decodePageCursor(text: string): PageCursor | undefined {
  if (!BASE64URL.test(text)) {
    return undefined;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2) {
    return undefined;
  }
  const [createdAt, id] = parsed as unknown[];
  if (
    typeof createdAt !== 'string' ||
    !ISO_MILLIS.test(createdAt) ||
    typeof id !== 'string' ||
    !UUID.test(id)
  ) {
    return undefined;
  }
  const cursor = { createdAt: new Date(createdAt), id };
  // Only the canonical spelling is accepted: no impossible dates (Feb 30), no alternative
  // base64 of the same bytes, so one position has exactly one cursor.
  if (Number.isNaN(cursor.createdAt.getTime()) || encodePageCursor(cursor) !== text) {
    return undefined;
  }
  return cursor;
}
