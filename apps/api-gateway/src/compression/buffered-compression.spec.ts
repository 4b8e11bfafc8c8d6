import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { appendVary, compressForClient, preferredCoding } from './buffered-compression';
import { COMPRESSION_THRESHOLD_BYTES } from './compression.middleware';

function exchange(
  method: string,
  headers: Record<string, string>,
  responseHeaders: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' },
): { req: IncomingMessage; res: ServerResponse } {
  const req = new IncomingMessage(new Socket());
  req.method = method;
  req.headers = headers;
  const res = new ServerResponse(req);
  for (const [name, value] of Object.entries(responseHeaders)) {
    res.setHeader(name, value);
  }
  return { req, res };
}

const large = Buffer.from(JSON.stringify({ items: 'x'.repeat(COMPRESSION_THRESHOLD_BYTES * 2) }));

describe('preferredCoding', () => {
  it.each([
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['deflate', 'deflate'],
    ['gzip, br', 'br'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['br;q=0, gzip;q=0.1', 'gzip'],
    ['*', 'br'],
    ['*;q=0.5, br;q=0', 'gzip'],
    ['GZIP', 'gzip'],
    ['identity', undefined],
    ['br;q=0, gzip;q=0, deflate;q=0', undefined],
    ['compress, x-unknown', undefined],
    ['gzip;q=nonsense', undefined],
    ['', undefined],
    [undefined, undefined],
  ])('%p -> %p', (header, expected) => {
    expect(preferredCoding(header)).toBe(expected);
  });
});

describe('compressForClient', () => {
  it.each([
    ['br', brotliDecompressSync],
    ['gzip', gunzipSync],
    ['deflate', inflateSync],
  ] as const)('compresses a large JSON body with %s and says so', async (coding, inflate) => {
    const { req, res } = exchange('GET', { 'accept-encoding': coding });
    const sent = await compressForClient(req, res, large);
    expect(res.getHeader('content-encoding')).toBe(coding);
    expect(res.getHeader('vary')).toBe('Accept-Encoding');
    expect(sent.length).toBeLessThan(large.length);
    expect(inflate(sent).equals(large)).toBe(true);
  });

  it('leaves a body under the threshold as it is, with Vary', async () => {
    const { req, res } = exchange('GET', { 'accept-encoding': 'gzip' });
    const small = Buffer.alloc(COMPRESSION_THRESHOLD_BYTES - 1, 'a');
    expect(await compressForClient(req, res, small)).toBe(small);
    expect(res.getHeader('content-encoding')).toBeUndefined();
    expect(res.getHeader('vary')).toBe('Accept-Encoding');
  });

  it.each([
    ['a client that asks for none', 'GET', {}, {}],
    ['a HEAD answer', 'HEAD', { 'accept-encoding': 'gzip' }, {}],
    ['an answer already encoded', 'GET', { 'accept-encoding': 'gzip' }, { 'content-encoding': 'br' }],
  ])('does not compress %s', async (_case, method, headers, extra) => {
    const { req, res } = exchange(method, headers, {
      'content-type': 'application/json',
      ...extra,
    });
    expect(await compressForClient(req, res, large)).toBe(large);
    expect(res.getHeader('vary')).toBe('Accept-Encoding');
  });

  it.each([
    ['an incompressible type', { 'content-type': 'image/png' }],
    ['no type', {}],
    ['Cache-Control: no-transform', { 'content-type': 'text/plain', 'cache-control': 'public, no-transform' }],
  ])('neither compresses nor varies %s', async (_case, responseHeaders) => {
    const { req, res } = exchange('GET', { 'accept-encoding': 'gzip' }, responseHeaders);
    expect(await compressForClient(req, res, large)).toBe(large);
    expect(res.getHeader('content-encoding')).toBeUndefined();
    expect(res.getHeader('vary')).toBeUndefined();
  });
});

describe('appendVary', () => {
  it.each([
    [undefined, 'Accept-Encoding'],
    ['Origin', 'Origin, Accept-Encoding'],
    ['origin, accept-encoding', 'origin, accept-encoding'],
    ['*', '*'],
  ])('%p -> %p', (current, expected) => {
    const { res } = exchange('GET', {});
    if (current !== undefined) {
      res.setHeader('vary', current);
    }
    appendVary(res, 'Accept-Encoding');
    expect(res.getHeader('vary')).toBe(expected);
  });
});
