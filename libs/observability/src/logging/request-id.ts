import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from '../observability.constants';

type RequestWithId = IncomingMessage & { id?: unknown };

/**
 * The request's id: the incoming `x-request-id` when it is well formed, otherwise a new
 * UUID. Idempotent, so the logger and the context middleware agree whoever runs first, and
 * echoes the id on the response before any handler can fail.
 */
export function resolveRequestId(req: IncomingMessage, res: ServerResponse): string {
  const withId = req as RequestWithId;
  if (typeof withId.id === 'string') {
    return withId.id;
  }
  const incoming = req.headers[REQUEST_ID_HEADER];
  const id =
    typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming) ? incoming : randomUUID();
  withId.id = id;
  if (!res.headersSent) {
    res.setHeader(REQUEST_ID_HEADER, id);
  }
  return id;
}
