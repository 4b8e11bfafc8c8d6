import { type IncomingHttpHeaders } from 'node:http';
import { type Dispatcher } from 'undici';

/** An upstream's whole answer. */
export interface UpstreamAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One upstream exchange on undici's dispatch API, its answer gathered whole. `pool.request`
 * would wrap every call in an AsyncResource, a Readable body stream and, for cancelling it, an
 * AbortController; the proxy needs none of them: it relays the buffered answer (so that a
 * body that stalls half-way is still a clean 504) and cancels with {@link cancel}. Timeouts
 * are the pool's (`headersTimeout`, `bodyTimeout`), errors undici's own.
 */
export class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly answer: Promise<UpstreamAnswer>;
  private resolve!: (answer: UpstreamAnswer) => void;
  private reject!: (error: Error) => void;
  private controller: Dispatcher.DispatchController | undefined;
  private cancelledWith: Error | undefined;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private readonly chunks: Buffer[] = [];
  private length = 0;

  constructor() {
    this.answer = new Promise<UpstreamAnswer>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  /** Whether {@link cancel} was called. */
  get cancelled(): boolean {
    return this.cancelledWith !== undefined;
  }

  /** Gives up the call (the client hung up): undici closes the connection. */
  cancel(reason: Error): void {
    this.cancelledWith ??= reason;
    this.controller?.abort(reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.cancelledWith !== undefined) {
      controller.abort(this.cancelledWith);
    }
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
  ): void {
    if (statusCode >= 200) {
      // 1xx answers (102, 103) are informational: the final answer follows.
      this.statusCode = statusCode;
      this.headers = headers;
    }
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  onResponseEnd(): void {
    const body =
      this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.length);
    this.resolve({ statusCode: this.statusCode, headers: this.headers, body });
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.reject(error);
  }
}
