import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { securityHeaders } from './security-headers';

/** Sets {@link securityHeaders} on every response and drops `x-powered-by`. */
@Injectable()
export class HelmetMiddleware implements NestMiddleware {
  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    res.removeHeader('x-powered-by');
    securityHeaders(req, res, next);
  }
}
