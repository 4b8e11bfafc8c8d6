import { randomUUID } from 'node:crypto';
import { type Server, STATUS_CODES } from 'node:http';
import { type Duplex } from 'node:stream';
import { errorBody, REQUEST_ID_HEADER } from '@keel/platform';
import { staticSecurityHeaders } from './security-headers';

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 413,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

const MESSAGE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'Malformed HTTP request',
  408: 'Request not received in time',
  413: 'Request too large',
  431: 'Request headers too large',
};

const installed = new WeakSet<Server>();

/**
 * Answers requests that Node's HTTP parser refuses before any route sees them (invalid
 * header characters, headers over the size limit, slow clients past the request timeout)
 * with the contract's error body and the security headers, instead of Node's bare
 * status line, then closes the connection. Idempotent per server.
 */
export function installClientErrorResponder(server: Server): void {
  if (installed.has(server)) {
    return;
  }
  installed.add(server);
  const headers = staticSecurityHeaders()
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  server.on(
    'clientError',
    (error: NodeJS.ErrnoException, socket: Duplex & { bytesWritten?: number }) => {
      if (error.code === 'ECONNRESET' || !socket.writable || (socket.bytesWritten ?? 0) > 0) {
        socket.destroy();
        return;
      }
      const status = STATUS_BY_CODE[error.code ?? ''] ?? 400;
      const requestId = randomUUID();
      const body = JSON.stringify(errorBody(status, MESSAGE_BY_STATUS[status], requestId));
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${headers}` +
          `content-type: application/json; charset=utf-8\r\n` +
          `content-length: ${Buffer.byteLength(body)}\r\n` +
          `${REQUEST_ID_HEADER}: ${requestId}\r\nconnection: close\r\n\r\n${body}`,
      );
    },
  );
}
