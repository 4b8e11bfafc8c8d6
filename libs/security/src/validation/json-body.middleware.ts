import { type IncomingMessage, type ServerResponse } from 'node:http';
import {
  BadRequestException,
  Inject,
  Injectable,
  type NestMiddleware,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { json, type RequestHandler } from 'express';
import { SECURITY_OPTIONS } from '../security.module-definition';
import { type SecurityModuleOptions } from '../security-options.interface';
import { DEFAULT_BODY_LIMIT_BYTES } from './json-body.constants';
import { inspectJsonBody } from './json-body.inspector';

type Next = (error?: unknown) => void;

/** `application/json` or a `+json` type, any parameters. */
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * The one body parser of every app, run after the security headers so its errors carry
 * them too. Only JSON is accepted: another media type is a 415, a body over `BODY_LIMIT`
 * a 413, malformed JSON or a top level other than an object a 400, and so are bodies with
 * prototype keys or nesting deeper than 32 levels. A JSON body of zero bytes is left
 * undefined, so routes that take a body answer 400 and routes that do not are unaffected.
 * Compressed request bodies are refused (415) rather than inflated.
 */
@Injectable()
export class JsonBodyMiddleware implements NestMiddleware {
  private readonly parse: RequestHandler;

  constructor(@Inject(SECURITY_OPTIONS) options: SecurityModuleOptions) {
    this.parse = json({
      limit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
      strict: true,
      inflate: false,
      type: () => true,
    }) as RequestHandler;
  }

  use(req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: Next): void {
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) {
      next();
      return;
    }
    if (!JSON_MEDIA_TYPE.test(req.headers['content-type'] ?? '')) {
      next(new UnsupportedMediaTypeException('Request body must be application/json'));
      return;
    }
    this.parse(req as never, res as never, (error?: unknown) => {
      if (error) {
        next(error);
        return;
      }
      const problem = inspectJsonBody(req.body);
      next(problem ? new BadRequestException(problem) : undefined);
    });
  }
}
