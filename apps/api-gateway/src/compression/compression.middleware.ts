import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import compression from 'compression';

/** Responses over 1 KiB are compressed with br or gzip, whichever the client prefers. */
export const COMPRESSION_THRESHOLD_BYTES = 1024;

/** gzip/br at the edge only: upstreams are asked for identity and answer uncompressed. */
@Injectable()
export class CompressionMiddleware implements NestMiddleware {
  private readonly handler = compression({ threshold: COMPRESSION_THRESHOLD_BYTES });

  use(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    this.handler(req as never, res as never, next);
  }
}
