import { type HttpStatus } from '@nestjs/common';

/**
 * A failure the domain expects and names with a stable code (`EMAIL_TAKEN`,
 * `INVALID_CREDENTIALS`). The platform's exception filter maps it to its HTTP status and the
 * contract's error body; `message` is shown to clients, so it must never hold internals.
 */
export class DomainException extends Error {
  constructor(
    readonly code: string,
    readonly status: HttpStatus,
    message: string,
  ) {
    super(message);
    this.name = 'DomainException';
  }
}
