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
