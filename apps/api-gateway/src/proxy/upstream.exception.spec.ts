import { errors } from 'undici';
import { UpstreamException } from './upstream.exception';

describe(UpstreamException.name, () => {
  it.each([
    ['a connect timeout', new errors.ConnectTimeoutError()],
    ['a headers timeout', new errors.HeadersTimeoutError()],
    ['a body timeout', new errors.BodyTimeoutError()],
  ])('turns %s into 504', (_case, error) => {
    const exception = UpstreamException.from('users-service', error);
    expect(exception.status).toBe(504);
    expect(exception.code).toBe('UPSTREAM_TIMEOUT');
    expect(exception.cause).toBe(error);
  });

  it.each([
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:3002'), { code: 'ECONNREFUSED' }),
    ],
    ['a reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['a socket closed by the upstream', new errors.SocketError('other side closed')],
    ['anything else', new Error('boom')],
  ])('turns %s into 502', (_case, error) => {
    const exception = UpstreamException.from('users-service', error);
    expect(exception.status).toBe(502);
    expect(exception.code).toBe('UPSTREAM_UNAVAILABLE');
  });

  it('keeps addresses and causes out of the client message', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED 10.0.0.7:3002'), {
      code: 'ECONNREFUSED',
    });
    expect(UpstreamException.from('users-service', error).message).toBe(
      'The users-service is unavailable',
    );
  });
});
