import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

/** One item of an envelope: its header line and its payload (JSON when it parses). */
export interface EnvelopeItem {
  header: Record<string, unknown>;
  payload: unknown;
  /** The payload exactly as received, for "appears nowhere" checks. */
  raw: string;
}

/** One envelope POSTed by an SDK. */
export interface ReceivedEnvelope {
  project: string;
  header: Record<string, unknown>;
  items: EnvelopeItem[];
  /** The whole decompressed body. */
  raw: string;
}

/** The fields of a Sentry error event the suites look at. */
export interface SentryEvent {
  event_id: string;
  level?: string;
  environment?: string;
  release?: string;
  tags?: Record<string, string>;
  user?: { id?: string };
  contexts?: { trace?: { trace_id?: string; span_id?: string } } & Record<string, unknown>;
  request?: Record<string, unknown>;
  exception?: { values?: { type?: string; value?: string; mechanism?: { type?: string } }[] };
  [key: string]: unknown;
}

/**
 * A stand-in for Sentry's ingest endpoint: accepts envelopes at `/api/<project>/envelope/`
 * (gzip, deflate, brotli or plain), parses their newline-separated items and keeps them.
 * Point an SDK at it with {@link SentryReceiver.dsn}.
 */
export class SentryReceiver {
  readonly envelopes: ReceivedEnvelope[] = [];
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly server: Server,
    readonly port: number,
    readonly project: string,
  ) {}

  static async start(project = '42'): Promise<SentryReceiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const receiver = new SentryReceiver(server, (server.address() as AddressInfo).port, project);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      void receiver.handle(req).then(
        (status) => {
          res.statusCode = status;
          res.setHeader('content-type', 'application/json');
          res.end(status === 200 ? '{"id":"ok"}' : '{}');
        },
        () => {
          res.statusCode = 400;
          res.end();
        },
      );
    });
    return receiver;
  }

  /** `http://public@127.0.0.1:<port>/<project>` */
  get dsn(): string {
    return `http://public@127.0.0.1:${this.port}/${this.project}`;
  }

  /** Error events (items of type `event`), oldest first. */
  events(): SentryEvent[] {
    return this.envelopes.flatMap((envelope) =>
      envelope.items
        .filter((item) => item.header.type === 'event')
        .map((item) => item.payload as SentryEvent),
    );
  }

  /** Every body received, decompressed, concatenated. */
  allRaw(): string {
    return this.envelopes.map((envelope) => envelope.raw).join('\n');
  }

  /** Resolves once `predicate` holds for the events received, or rejects after `timeoutMs`. */
  async waitFor(
    predicate: (events: SentryEvent[]) => boolean,
    timeoutMs = 10_000,
  ): Promise<SentryEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.events())) {
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `Sentry receiver: condition not met within ${timeoutMs} ms; events: ${JSON.stringify(
            this.events().map((event) => event.exception?.values?.[0]?.value ?? event.event_id),
          )}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.events();
  }

  clear(): void {
    this.envelopes.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage): Promise<number> {
    const match = /^\/api\/([^/]+)\/envelope\/?(\?.*)?$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
      chunks.push(chunk as Buffer);
    }
    if (req.method !== 'POST' || !match) {
      return 404;
    }
    const raw = decode(Buffer.concat(chunks), req.headers['content-encoding']).toString('utf8');
    this.envelopes.push({ project: match[1], ...parseEnvelope(raw), raw });
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach((wake) => wake());
    return 200;
  }
}

function decode(body: Buffer, encoding: string | undefined): Buffer {
  switch (encoding) {
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    default:
      return body;
  }
}

/**
 * Envelope format: a header line, then per item a header line and a payload that is either
 * `length` bytes (when the item header gives one) or the next line.
 */
export function parseEnvelope(raw: string): Pick<ReceivedEnvelope, 'header' | 'items'> {
  const bytes = Buffer.from(raw, 'utf8');
  let offset = 0;
  const readLine = (): string | undefined => {
    if (offset >= bytes.length) {
      return undefined;
    }
    const end = bytes.indexOf(0x0a, offset);
    const line = bytes.subarray(offset, end === -1 ? bytes.length : end).toString('utf8');
    offset = end === -1 ? bytes.length : end + 1;
    return line;
  };
  const header = JSON.parse(readLine() ?? '{}') as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  for (let line = readLine(); line !== undefined; line = readLine()) {
    if (line.trim() === '') {
      continue;
    }
    const itemHeader = JSON.parse(line) as Record<string, unknown>;
    let payloadText: string;
    if (typeof itemHeader.length === 'number') {
      payloadText = bytes.subarray(offset, offset + itemHeader.length).toString('utf8');
      offset += itemHeader.length + 1;
    } else {
      payloadText = readLine() ?? '';
    }
    let payload: unknown = payloadText;
    try {
      payload = JSON.parse(payloadText);
    } catch {
      // Attachments and other binary items stay text.
    }
    items.push({ header: itemHeader, payload, raw: payloadText });
  }
  return { header, items };
}
