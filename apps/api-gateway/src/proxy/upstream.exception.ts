import { HttpStatus } from '@nestjs/common';
import { DomainException } from '@keel/platform';
import { errors } from 'undici';

/**
 * An upstream could not answer: 502 when it refused or broke the connection, 504 when it
 * did not answer within the configured timeouts. The message is written for clients; the
 * cause (with the upstream's address) goes only to the log.
 */
export class UpstreamException extends DomainException {
  constructor(
    readonly upstream: string,
    readonly reason: 'unavailable' | 'timeout',
    cause: unknown,
  ) {
    super(
      reason === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE',
      reason === 'timeout' ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.BAD_GATEWAY,
      reason === 'timeout'
        ? `The ${upstream} did not answer in time`
        : `The ${upstream} is unavailable`,
    );
    this.cause = cause;
  }

  /** Classifies an undici failure: timeouts become 504, anything else 502. */
  static from(upstream: string, error: unknown): UpstreamException {
    const timedOut =
      error instanceof errors.ConnectTimeoutError ||
      error instanceof errors.HeadersTimeoutError ||
      error instanceof errors.BodyTimeoutError ||
      (error as { code?: unknown })?.code === 'ETIMEDOUT';
    return new UpstreamException(upstream, timedOut ? 'timeout' : 'unavailable', error);
  }
}
