/**
 * The failure `x-chaos` asks for. Deliberately not an `HttpException`: it must travel the
 * same path as an unexpected bug (500, generic message, logged, reported to Sentry).
 */
export class ChaosException extends Error {
  constructor(
    readonly app: string,
    readonly fault: string,
  ) {
    super(`Chaos: x-chaos asked ${app} to ${fault === 'error' ? 'fail' : fault}`);
    this.name = 'ChaosException';
  }
}
