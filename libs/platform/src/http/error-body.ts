import { STATUS_CODES } from 'node:http';

/** The one error body of every service (CONTRACT §3). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  requestId: string;
  traceId: string;
}

/** The reason phrase of a status (`Bad Request`), as the body's `error` field. */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/**
 * Builds the contract's error body; every error answer of every library and app is made
 * here. `traceId` is `''` when the request has no trace (tracing off, or answered before one
 * started).
 */
export function errorBody(
  statusCode: number,
  message: string,
  requestId: string,
  traceId = '',
): ErrorBody {
  return { statusCode, error: statusText(statusCode), message, requestId, traceId };
}
