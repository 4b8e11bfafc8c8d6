import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Inject, Injectable, type NestMiddleware } from '@nestjs/common';
import { SECURITY_OPTIONS } from '../security.module-definition';
import { type SecurityModuleOptions } from '../security-options.interface';
import { JsonBodyMiddleware } from '../validation/json-body.middleware';
import { CorsMiddleware } from './cors.middleware';
import { staticSecurityHeaders } from './security-headers';

type Next = (error?: unknown) => void;

/**
 * What every request meets before its route, in this order: the security headers (helmet's
 * set, computed once, so that errors, 404s and 429s carry them too), CORS (preflights are
 * answered here), then the one JSON body parser. One middleware rather than three: each
 * Express layer costs every request a path match and Nest's wrapper, and these three always
 * run together. The gateway's edge calls it directly for the routes it serves.
 */
@Injectable()
export class RequestSecurityMiddleware implements NestMiddleware {
  private readonly headers = staticSecurityHeaders();
  private readonly cors: CorsMiddleware;
  private readonly json: JsonBodyMiddleware;

  constructor(@Inject(SECURITY_OPTIONS) options: SecurityModuleOptions) {
    this.cors = new CorsMiddleware(options);
    this.json = new JsonBodyMiddleware(options);
  }

  use(req: IncomingMessage, res: ServerResponse, next: Next): void {
    res.removeHeader('x-powered-by');
    for (const [name, value] of this.headers) {
      res.setHeader(name, value);
    }
    this.cors.use(req, res, () => this.json.use(req, res, next));
  }
}
