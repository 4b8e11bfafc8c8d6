import {
  forwardableRequestHeaders,
  relayableResponseHeaders,
  relayResponseHeaders,
} from './proxy-headers';

describe('proxy headers', () => {
  describe(forwardableRequestHeaders.name, () => {
    it('keeps end-to-end headers and drops hop-by-hop ones', () => {
      const out = forwardableRequestHeaders({
        authorization: 'Bearer t',
        'content-type': 'application/json',
        'x-chaos': 'users-service=latency:10',
        'user-agent': 'curl',
        connection: 'keep-alive, x-secret-hop',
        'keep-alive': 'timeout=5',
        'x-secret-hop': 'drop me',
        'proxy-authorization': 'Basic x',
        te: 'trailers',
        trailer: 'x',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        host: 'gateway:3000',
        'content-length': '12',
        expect: '100-continue',
      });
      expect(out).toEqual({
        authorization: 'Bearer t',
        'content-type': 'application/json',
        'x-chaos': 'users-service=latency:10',
        'user-agent': 'curl',
      });
    });

    it('never forwards a client-supplied internal token, request id, forwarding or trace headers', () => {
      const out = forwardableRequestHeaders({
        'x-internal-token': 'guess',
        'x-request-id': 'abc',
        'x-forwarded-for': '1.2.3.4',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'evil',
        forwarded: 'for=1.2.3.4',
        'accept-encoding': 'gzip, br',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        accept: 'application/json',
      });
      expect(out).toEqual({ accept: 'application/json' });
    });
  });

  describe(relayableResponseHeaders.name, () => {
    it("relays the upstream's content headers and drops framing, helmet and rate-limit headers", () => {
      const out = relayableResponseHeaders({
        'content-type': 'application/json; charset=utf-8',
        etag: 'W/"1"',
        'cache-control': 'no-store',
        'set-cookie': ['a=1', 'b=2'],
        'retry-after': '3',
        'content-length': '42',
        'transfer-encoding': 'chunked',
        connection: 'keep-alive',
        'keep-alive': 'timeout=5',
        date: 'Thu, 01 Jan 2026 00:00:00 GMT',
        'x-powered-by': 'Express',
        'x-request-id': 'r1',
        'content-security-policy': "default-src 'none'",
        'strict-transport-security': 'max-age=1',
        'x-frame-options': 'DENY',
        'x-ratelimit-limit': '1000',
        'access-control-allow-origin': '*',
        vary: undefined,
      });
      expect(out).toEqual({
        'content-type': 'application/json; charset=utf-8',
        etag: 'W/"1"',
        'cache-control': 'no-store',
        'set-cookie': ['a=1', 'b=2'],
        'retry-after': '3',
      });
    });
  });

  describe(relayResponseHeaders.name, () => {
    it('sets the relayable headers on the response, dropping those its Connection header names', () => {
      const set: Record<string, string | string[]> = {};
      relayResponseHeaders(
        {
          'content-type': 'application/json',
          connection: 'keep-alive, x-upstream-hop',
          'x-upstream-hop': '1',
          'x-frame-options': 'DENY',
          etag: 'W/"2"',
        },
        { setHeader: (name, value) => (set[name] = value) },
      );
      expect(set).toEqual({ 'content-type': 'application/json', etag: 'W/"2"' });
    });
  });
});
