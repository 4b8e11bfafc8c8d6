import { type IncomingMessage, type ServerResponse } from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants, deflate, gzip } from 'node:zlib';
import { COMPRESSION_THRESHOLD_BYTES } from './compression.middleware';

type Coding = 'br' | 'gzip' | 'deflate';

/** Server preference when the client weighs codings equally. */
const CODINGS: readonly Coding[] = ['br', 'gzip', 'deflate'];

const compressors: Record<Coding, (body: Buffer) => Promise<Buffer>> = {
  // Quality 4, as the streaming middleware uses: br's default (11) costs ~10× the CPU.
  br: (body) =>
    promisify(brotliCompress)(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } }),
  gzip: (body) => promisify(gzip)(body),
  deflate: (body) => promisify(deflate)(body),
};

/** Types worth compressing: text, JSON, XML and JavaScript, with or without a suffix. */
const COMPRESSIBLE = /^(?:text\/|application\/(?:[\w.-]+\+)?(?:json|xml)\b|application\/javascript\b)/i;

/**
 * The coding the client prefers out of br, gzip and deflate (RFC 9110 §12.5.3: highest `q`,
 * `*` standing for codings it does not name, `q=0` refusing), `undefined` when it accepts
 * none of them. Ties go to br, then gzip.
 */
export function preferredCoding(acceptEncoding: string | undefined): Coding | undefined {
  if (acceptEncoding === undefined || acceptEncoding === '') {
    return undefined;
  }
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.split(';');
    const coding = name.trim().toLowerCase();
    if (coding === '') {
      continue;
    }
    let q = 1;
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key.trim().toLowerCase() === 'q') {
        const parsed = Number(value);
        q = Number.isFinite(parsed) ? Math.min(1, Math.max(0, parsed)) : 0;
      }
    }
    weights.set(coding, q);
  }
  const wildcard = weights.get('*') ?? 0;
  let best: Coding | undefined;
  let bestQ = 0;
  for (const coding of CODINGS) {
    const q = weights.get(coding) ?? wildcard;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/**
 * The gateway's response compression for a body it holds whole (the proxy buffers upstream
 * answers): the rules of the `compression` middleware the rest of the app uses, without its
 * per-request stream and `res.write`/`res.end` wrappers. A compressible type gets
 * `Vary: Accept-Encoding` whatever its size; it is compressed when it is at least
 * {@link COMPRESSION_THRESHOLD_BYTES}, not already encoded, not `Cache-Control: no-transform`,
 * not an answer to HEAD, and the client accepts br, gzip or deflate. Unlike the stream, the
 * compressed answer keeps an exact `Content-Length`.
 *
 * Sets the headers on `res` and returns the body to send: the same Buffer, synchronously, when
 * nothing is compressed (most answers are small), so that the common path awaits nothing.
 */
export function compressForClient(
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
): Buffer | Promise<Buffer> {
  const type = res.getHeader('content-type');
  if (typeof type !== 'string' || !COMPRESSIBLE.test(type)) {
    return body;
  }
  const cacheControl = res.getHeader('cache-control');
  if (typeof cacheControl === 'string' && /(?:^|,)\s*no-transform\s*(?:,|$)/i.test(cacheControl)) {
    return body;
  }
  appendVary(res, 'Accept-Encoding');
  const encoding = res.getHeader('content-encoding');
  if (
    body.length < COMPRESSION_THRESHOLD_BYTES ||
    (encoding !== undefined && encoding !== 'identity') ||
    req.method === 'HEAD'
  ) {
    return body;
  }
  const coding = preferredCoding(req.headers['accept-encoding']);
  if (coding === undefined) {
    return body;
  }
  return compressors[coding](body).then((compressed) => {
    res.setHeader('content-encoding', coding);
    return compressed;
  });
}

/** Adds `field` to `Vary` unless it is there already (or `*`). */
export function appendVary(res: ServerResponse, field: string): void {
  const current = res.getHeader('vary');
  if (current === undefined) {
    res.setHeader('vary', field);
    return;
  }
  const text = Array.isArray(current) ? current.join(', ') : String(current);
  const wanted = field.toLowerCase();
  const present = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .some((name) => name === wanted || name === '*');
  if (!present) {
    res.setHeader('vary', `${text}, ${field}`);
  }
}
