import { performance } from 'node:perf_hooks';
import {
  Inject,
  Injectable,
  type OnApplicationShutdown,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { dispatchWithOwnSpan, httpClientSpans } from '@keel/observability';
import { APP_CONFIG, INTERNAL_TOKEN_HEADER, RequestContext } from '@keel/platform';
import { CLIENT_IP_HEADER, REQUEST_ID_HEADER } from '@keel/platform';
import { type Request, type Response } from 'express';
import { Pool } from 'undici';
import { type GatewayConfig, type UpstreamName } from '../config/gateway-config';
import { compressForClient } from '../compression/buffered-compression';
import { forwardableRequestHeaders, relayResponseHeaders } from './proxy-headers';
import { type UpstreamAnswer, UpstreamCall } from './upstream-call';
import { UpstreamException } from './upstream.exception';

/** Why a call is cancelled when its client has gone. */
const CLIENT_GONE = new Error('client closed the connection');

export type { UpstreamName };

interface Upstream {
  name: UpstreamName;
  pool: Pool;
  /** Where its calls go, for their client spans. */
  scheme: string;
  host: string;
  port: number;
  /** Path prefix of the configured URL (`''` for `http://host:port`). */
  basePath: string;
}

type TrustFn = (address: string, hop: number) => boolean;

/**
 * Forwards one gateway route to its upstream over a keep-alive undici pool per registry
 * upstream, and relays the answer. Every route uses this one class, so headers, timeouts and errors
 * behave the same everywhere.
 */
@Injectable()
export class ProxyService implements OnApplicationShutdown {
  private readonly upstreams: Map<UpstreamName, Upstream>;
  private readonly internalToken: string;

  constructor(@Inject(APP_CONFIG) config: GatewayConfig) {
    this.internalToken = config.internalToken;
    this.upstreams = new Map(
      Object.entries(config.upstreams).map(([name, settings]) => {
        const url = new URL(settings.url);
        const upstream: Upstream = {
          name,
          // No `connections` cap: the pool then hands each call to a client at once, so undici
          // creates (and announces) the request inside `dispatch()`, which is what
          // `dispatchWithOwnSpan` relies on to keep instrumentation-undici off these calls.
          pool: new Pool(url.origin, {
            connect: { timeout: settings.connectTimeoutMs },
            headersTimeout: settings.timeoutMs,
            bodyTimeout: settings.timeoutMs,
            keepAliveTimeout: 10_000,
          }),
          basePath: url.pathname.replace(/\/+$/, ''),
          scheme: url.protocol.slice(0, -1),
          host: url.hostname,
          port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
        };
        return [name, upstream];
      }),
    );
  }

  /**
   * Sends `req` to `path` (plus the request's query string) on `upstream` and writes the
   * upstream's status, headers and body to `res`. Throws {@link UpstreamException} (502/504)
   * when the upstream cannot answer. The upstream call's CLIENT span is made here
   * ({@link httpClientSpans}), a direct child of the gateway's server span, with
   * instrumentation-undici's name and attributes but without its per-request parsing.
   */
  async forward(
    req: Request,
    res: Response,
    upstreamName: UpstreamName,
    path: string,
  ): Promise<void> {
    const upstream = this.upstreams.get(upstreamName);
    if (upstream === undefined) {
      throw new Error(`No upstream named ${upstreamName}`);
    }
    const headers = this.upstreamHeaders(req);
    const requestBody = this.upstreamBody(req);
    if (requestBody !== undefined) {
      headers['content-type'] = 'application/json';
    }
    // A client that hangs up cancels its upstream call, so a slow upstream is not kept busy
    // for nobody (the pool replaces the connection).
    const call = new UpstreamCall();
    const onClose = (): void => call.cancel(CLIENT_GONE);
    res.once('close', onClose);
    const target = upstream.basePath + path + queryOf(req.originalUrl);
    const spans = httpClientSpans();
    const span = spans?.start(
      {
        method: req.method,
        scheme: upstream.scheme,
        host: upstream.host,
        port: upstream.port,
        target,
      },
      headers,
    );
    const started = performance.now();
    dispatchWithOwnSpan(() =>
      upstream.pool.dispatch(
        { method: req.method, path: target, headers, body: requestBody },
        call,
      ),
    );
    let response: UpstreamAnswer;
    try {
      response = await call.answer;
    } catch (error) {
      spans?.failed(span, error);
      if (call.cancelled) {
        return;
      }
      this.observe(upstreamName, req.method, undefined, (performance.now() - started) / 1000);
      throw UpstreamException.from(upstreamName, error);
    } finally {
      res.off('close', onClose);
    }
    spans?.answered(span, response.statusCode);
    this.observe(
      upstreamName,
      req.method,
      response.statusCode,
      (performance.now() - started) / 1000,
    );
    res.statusCode = response.statusCode;
    relayResponseHeaders(response.headers, res);
    // The whole body is here, so it is compressed in one go and keeps a known length. A HEAD
    // answer has no body but announces the length the GET would have.
    const compressed = compressForClient(req, res, response.body);
    const sent = compressed instanceof Buffer ? compressed : await compressed;
    if (sent !== response.body) {
      this.observeCompression(String(res.getHeader('content-encoding')), response.body, sent);
    }
    const headLength = response.headers['content-length'];
    res.setHeader(
      'content-length',
      req.method === 'HEAD' && typeof headLength === 'string' ? headLength : sent.length,
    );
    res.end(sent);
  }

  /**
   * Called once per upstream call with its duration; `statusCode` is undefined when the
   * upstream gave no answer. Metrics override this hook.
   */
  protected observe(
    _upstream: UpstreamName,
    _method: string,
    _statusCode: number | undefined,
    _seconds: number,
  ): void {}

  /** Called for each answer the gateway compressed, with the body before and after. */
  protected observeCompression(_encoding: string, _before: Buffer, _after: Buffer): void {}

  /** Connection and request counts of each upstream's pool, for the metrics. */
  poolStats(): Array<{ upstream: UpstreamName; stats: Pool['stats'] }> {
    return [...this.upstreams.values()].map(({ name, pool }) => ({
      upstream: name,
      stats: pool.stats,
    }));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.upstreams.values()].map((upstream) => upstream.pool.close()));
  }

  private upstreamHeaders(req: Request): Record<string, string | string[]> {
    const headers = forwardableRequestHeaders(req.headers);
    const requestId = RequestContext.requestId();
    if (requestId) {
      headers[REQUEST_ID_HEADER] = requestId;
    }
    // A client's own X-Forwarded-For is kept only when the gateway trusts its peer
    // (TRUST_PROXY), the same rule express applies to req.ip.
    const peer = req.socket.remoteAddress ?? '';
    const trust = req.app.get('trust proxy fn') as TrustFn | undefined;
    const prior = req.headers['x-forwarded-for'];
    headers['x-forwarded-for'] =
      typeof prior === 'string' && prior !== '' && trust?.(peer, 0) ? `${prior}, ${peer}` : peer;
    headers['x-forwarded-proto'] = req.protocol;
    const host = req.host;
    if (host) {
      headers['x-forwarded-host'] = host;
    }
    // The client as the gateway's limiters see it, vouched for by the internal token, so
    // each service's own limit counts real clients rather than the gateway.
    const ip = req.ip;
    if (ip) {
      headers[CLIENT_IP_HEADER] = ip;
      headers[INTERNAL_TOKEN_HEADER] = this.internalToken;
    }
    return headers;
  }

  /** The JSON body, re-serialised: the global parser has already consumed the stream. */
  private upstreamBody(req: Request): string | undefined {
    const body: unknown = req.body;
    if (body !== undefined) {
      return JSON.stringify(body);
    }
    const hasBody =
      req.headers['transfer-encoding'] !== undefined ||
      Number(req.headers['content-length'] ?? '0') > 0;
    if (hasBody) {
      // The JSON parser skipped it: any other media type cannot be relayed faithfully.
      throw new UnsupportedMediaTypeException('Request body must be application/json');
    }
    return undefined;
  }
}

function queryOf(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index);
}
