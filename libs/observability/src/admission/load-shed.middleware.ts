import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Injectable, type NestMiddleware } from '@nestjs/common';
import { isOperationalPath } from '@keel/platform';
import { AdmissionControl } from './admission-control.service';
import { ServiceOverloadedException } from './service-overloaded.exception';

/** Where the middleware leaves a refusal for {@link LoadShedGuard}. */
export const SHED_DECISION = Symbol('keel.shed-decision');

export type ShedRequest = IncomingMessage & { [SHED_DECISION]?: ServiceOverloadedException };

/**
 * Runs {@link AdmissionControl} as the request enters. The refusal itself is thrown by
 * {@link LoadShedGuard}, after the security middleware, so the 503 carries the same headers as
 * every other answer. Operational routes are never shed: a probe or a scrape must see an
 * overloaded process as it is.
 */
@Injectable()
export class LoadShedMiddleware implements NestMiddleware {
  constructor(private readonly admission: AdmissionControl) {}

  use(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    // Express strips the mount path from `url`; `originalUrl` is the path as requested.
    if (isOperationalPath((req as { originalUrl?: string }).originalUrl ?? req.url)) {
      next();
      return;
    }
    try {
      const release = this.admission.admit();
      res.once('close', release);
    } catch (error) {
      if (!(error instanceof ServiceOverloadedException)) {
        throw error;
      }
      (req as ShedRequest)[SHED_DECISION] = error;
    }
    next();
  }
}
