import { Agent, errors, request } from 'undici';
import { RequestContext } from '../context/request-context';
import { CHAOS_HEADER, INTERNAL_TOKEN_HEADER, REQUEST_ID_HEADER } from './headers';

export interface InternalResponse<T> {
  status: number;
  body: T | undefined;
}

export interface InternalHttpClientOptions {
  baseUrl: string;
  internalToken: string;
  /** Connect timeout, ms. */
  connectTimeoutMs?: number;
  /** Time allowed for the response headers and body, ms. */
  responseTimeoutMs?: number;
}

/** The upstream could not be reached or did not answer in time. */
export class UpstreamUnavailableError extends Error {
  constructor(
    readonly upstream: string,
    readonly reason: 'refused' | 'timeout' | 'error',
    cause?: unknown,
  ) {
    super(`${upstream} ${reason}`, { cause });
    this.name = 'UpstreamUnavailableError';
  }
}

/**
 * JSON calls to another service's `/internal/*` API over a keep-alive pool, with the
 * internal token and the current request id attached and bounded timeouts. It never
 * retries: callers decide, so one slow upstream cannot cause a retry storm.
 */
export class InternalHttpClient {
  private readonly agent: Agent;

  constructor(private readonly options: InternalHttpClientOptions) {
    this.agent = new Agent({
      connect: { timeout: options.connectTimeoutMs ?? 1000 },
      headersTimeout: options.responseTimeoutMs ?? 3000,
      bodyTimeout: options.responseTimeoutMs ?? 3000,
      keepAliveTimeout: 10_000,
    });
  }

  async post<T>(path: string, payload: unknown): Promise<InternalResponse<T>> {
    return this.send<T>('POST', path, payload);
  }

  async delete(path: string): Promise<InternalResponse<unknown>> {
    return this.send('DELETE', path);
  }

  private async send<T>(
    method: 'POST' | 'DELETE',
    path: string,
    payload?: unknown,
  ): Promise<InternalResponse<T>> {
    const headers: Record<string, string> = { [INTERNAL_TOKEN_HEADER]: this.options.internalToken };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
    }
    const context = RequestContext.current();
    if (context?.requestId) {
      headers[REQUEST_ID_HEADER] = context.requestId;
    }
    if (context?.chaos) {
      headers[CHAOS_HEADER] = context.chaos;
    }
    try {
      const response = await request(new URL(path, this.options.baseUrl), {
        method,
        headers,
        body: payload === undefined ? undefined : JSON.stringify(payload),
        dispatcher: this.agent,
      });
      const text = await response.body.text();
      return {
        status: response.statusCode,
        body: text ? (JSON.parse(text) as T) : undefined,
      };
    } catch (error) {
      throw new UpstreamUnavailableError(this.options.baseUrl, classify(error), error);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function classify(error: unknown): 'refused' | 'timeout' | 'error' {
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError
  ) {
    return 'timeout';
  }
  const code = (error as { code?: string }).code;
  return code === 'ECONNREFUSED' || code === 'ECONNRESET' ? 'refused' : 'error';
}
