import { HttpStatus } from '@nestjs/common';
import { DomainException } from '@keel/platform';

/**
 * The process is past its capacity and refuses this request rather than queue it: 503 with
 * `Retry-After`. Not a fault: the filter neither logs it as an error nor reports it to Sentry
 * (during an overload that would add work to the overloaded process); it is counted in
 * `http_server_requests_shed_total` instead.
 */
export class ServiceOverloadedException extends DomainException {
  constructor(
    readonly reason: string,
    readonly retryAfterSeconds = 1,
  ) {
    super(
      'SERVICE_OVERLOADED',
      HttpStatus.SERVICE_UNAVAILABLE,
      'Service is overloaded, retry later',
    );
    this.name = 'ServiceOverloadedException';
  }
}
