import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { RATE_LIMIT_HEADERS, REQUEST_ID_HEADER, RETRY_AFTER_HEADER } from '@keel/platform';
import { SECURITY_OPTIONS } from '../security.module-definition';
import { type SecurityModuleOptions } from '../security-options.interface';

const ALLOWED_METHODS = 'GET,POST,PATCH,PUT,DELETE';
const ALLOWED_HEADERS = `authorization,content-type,${REQUEST_ID_HEADER},traceparent,tracestate`;
const EXPOSED_HEADERS = [REQUEST_ID_HEADER, RETRY_AFTER_HEADER, ...RATE_LIMIT_HEADERS].join(',');

/**
 * CORS for the origins of `CORS_ORIGINS` only, and none at all when it is empty. Runs after
 * the security headers, so preflight answers carry them too. No credentials: the API takes
 * bearer tokens, not cookies.
 */
@Injectable()
export class CorsMiddleware implements NestMiddleware {
  private readonly origins: ReadonlySet<string>;

  constructor(@Inject(SECURITY_OPTIONS) options: SecurityModuleOptions) {
    this.origins = new Set(options.corsOrigins.map((origin) => origin.replace(/\/+$/, '')));
  }

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const origin = req.headers.origin;
    if (this.origins.size === 0 || origin === undefined) {
      next();
      return;
    }
    res.appendHeader('vary', 'Origin');
    if (!this.origins.has(origin)) {
      next();
      return;
    }
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
    if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      res.setHeader('access-control-allow-methods', ALLOWED_METHODS);
      res.setHeader('access-control-allow-headers', ALLOWED_HEADERS);
      res.setHeader('access-control-max-age', '600');
      res.statusCode = 204;
      res.setHeader('content-length', '0');
      res.end();
      return;
    }
    next();
  }
}
