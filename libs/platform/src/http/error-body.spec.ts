import { errorBody } from './error-body';

describe(errorBody.name, () => {
  it('builds the contract body with the reason phrase and an empty trace id by default', () => {
    expect(errorBody(429, 'Too many requests', 'req-1')).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: 'Too many requests',
      requestId: 'req-1',
      traceId: '',
    });
    expect(errorBody(599, 'odd', 'req-2', 'a'.repeat(32))).toMatchObject({
      error: 'Error',
      traceId: 'a'.repeat(32),
    });
  });
});
