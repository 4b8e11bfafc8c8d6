import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { CHAOS_HEADER, RequestContext } from '@keel/platform';
import { resolveRequestId } from './request-id';

/** Opens the request's context (request id, chaos header) for everything serving it. */
@Injectable()
export class RequestContextMiddleware implements NestMiddleware {
  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    const chaos = req.headers[CHAOS_HEADER];
    RequestContext.run(
      {
        requestId: resolveRequestId(req, res),
        ...(typeof chaos === 'string' ? { chaos } : {}),
      },
      next,
    );
  }
}
