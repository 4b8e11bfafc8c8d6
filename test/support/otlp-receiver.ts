import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A small OTLP/HTTP trace receiver for tests: accepts `POST /v1/traces` in both encodings the
 * exporters speak (`application/x-protobuf` and `application/json`, optionally gzipped) and
 * keeps the spans, flattened, with their resource's attributes.
 *
 * ```ts
 * const receiver = await startOtlpReceiver();
 * // start apps with OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url
 * const spans = await receiver.waitFor((all) => all.some((s) => s.name === 'GET /x'));
 * await receiver.close();
 * ```
 */

export type AttributeValue =
  string | number | boolean | null | AttributeValue[] | { [key: string]: AttributeValue };
export type Attributes = Record<string, AttributeValue>;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** The resource's `service.name`. */
  service: string;
  scope: string;
  resource: Attributes;
  attributes: Attributes;
  events: { name: string; attributes: Attributes }[];
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
}

export const SpanKind = { INTERNAL: 1, SERVER: 2, CLIENT: 3 } as const;

export interface ReceivedRequest {
  contentType: string;
  spanCount: number;
  /** `service.name` of the resources in the request. */
  services: string[];
}

export interface OtlpReceiver {
  /** Base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter appends `/v1/traces`). */
  url: string;
  spans(): ReceivedSpan[];
  requests(): ReceivedRequest[];
  /** Resolves with all spans once `done(spans)` holds; rejects after `timeoutMs`. */
  waitFor(done: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const requests: ReceivedRequest[] = [];
  const waiters = new Set<() => void>();

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.statusCode = 400;
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== '/v1/traces') {
      res.statusCode = 404;
      res.end();
      return;
    }
    let body = await readBody(req);
    if (req.headers['content-encoding'] === 'gzip') {
      body = gunzipSync(body);
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim();
    let received: ReceivedSpan[];
    if (contentType === 'application/x-protobuf') {
      received = decodeProtobufRequest(body);
      res.setHeader('content-type', 'application/x-protobuf');
      res.end(); // an empty ExportTraceServiceResponse
    } else if (contentType === 'application/json') {
      received = decodeJsonRequest(JSON.parse(body.toString('utf8')) as JsonRequest);
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    } else {
      res.statusCode = 415;
      res.end();
      return;
    }
    requests.push({
      contentType,
      spanCount: received.length,
      services: [...new Set(received.map((span) => span.service))],
    });
    spans.push(...received);
    for (const wake of waiters) {
      wake();
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => [...spans],
    requests: () => [...requests],
    waitFor(done, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (done(spans)) {
            cleanup();
            resolve([...spans]);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `OTLP receiver: condition not met within ${timeoutMs} ms (${spans.length} spans)`,
            ),
          );
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A positive marker before looking at "all the spans so far": sends each app (by its base
 * URL, keyed by its `service.name`) a request in a fresh sampled trace and waits until the
 * receiver has a span of that trace from that service. An app exports its spans in the
 * order they end, so every span it ended before — the stragglers of earlier requests — has
 * arrived by then. Returns the barrier trace ids, to leave out of later checks.
 */
export async function otlpBarrier(
  receiver: OtlpReceiver,
  apps: Record<string, string>,
  timeoutMs = 15_000,
): Promise<Set<string>> {
  const traces = new Map<string, string>();
  await Promise.all(
    Object.entries(apps).map(async ([service, url]) => {
      const traceId = randomBytes(16).toString('hex');
      traces.set(service, traceId);
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          `${url}/__trace-barrier`,
          { headers: { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` } },
          (res) => {
            res.resume();
            res.once('end', resolve);
          },
        );
        req.once('error', reject);
        req.end();
      });
    }),
  );
  await receiver
    .waitFor(
      (spans) =>
        [...traces].every(([service, traceId]) =>
          spans.some((span) => span.traceId === traceId && span.service === service),
        ),
      timeoutMs,
    )
    .catch((error: unknown) => {
      throw new Error(
        `OTLP barrier: no span of the barrier request from every one of ${[...traces.keys()].join(
          ', ',
        )}: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  return new Set(traces.values());
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ── JSON (OTLP/HTTP JSON encoding: hex ids, camelCase fields) ───────────────────────────────

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
  kvlistValue?: { values?: JsonKeyValue[] };
  bytesValue?: string;
}
interface JsonKeyValue {
  key: string;
  value?: JsonAnyValue;
}
interface JsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes?: JsonKeyValue[];
  events?: { name: string; attributes?: JsonKeyValue[] }[];
  status?: { code?: number; message?: string };
}
interface JsonRequest {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: { scope?: { name?: string }; spans?: JsonSpan[] }[];
  }[];
}

function jsonValue(value: JsonAnyValue | undefined): AttributeValue {
  if (!value) {
    return null;
  }
  if (value.stringValue !== undefined) {
    return value.stringValue;
  }
  if (value.boolValue !== undefined) {
    return value.boolValue;
  }
  if (value.intValue !== undefined) {
    return Number(value.intValue);
  }
  if (value.doubleValue !== undefined) {
    return value.doubleValue;
  }
  if (value.arrayValue) {
    return (value.arrayValue.values ?? []).map(jsonValue);
  }
  if (value.kvlistValue) {
    return jsonAttributes(value.kvlistValue.values);
  }
  return value.bytesValue ?? null;
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Attributes {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, jsonValue(kv.value)]));
}

function decodeJsonRequest(request: JsonRequest): ReceivedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = jsonAttributes(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scopeSpans) =>
      (scopeSpans.spans ?? []).map((span): ReceivedSpan => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind ?? 0,
        service: serviceOf(resource),
        scope: scopeSpans.scope?.name ?? '',
        resource,
        attributes: jsonAttributes(span.attributes),
        events: (span.events ?? []).map((event) => ({
          name: event.name,
          attributes: jsonAttributes(event.attributes),
        })),
        status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
      })),
    );
  });
}

// ── Protobuf (opentelemetry/proto/collector/trace/v1, the few messages needed) ──────────────
// A minimal wire-format reader: the field numbers below are those of the OTLP .proto files.

type Field = { no: number; wire: number; varint?: bigint; bytes?: Buffer; fixed?: Buffer };

function readVarint(buf: Buffer, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[pos.i++];
    if (byte === undefined) {
      throw new Error('truncated varint');
    }
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) {
      return result;
    }
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  const pos = { i: 0 };
  while (pos.i < buf.length) {
    const key = Number(readVarint(buf, pos));
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) {
      out.push({ no, wire, varint: readVarint(buf, pos) });
    } else if (wire === 1) {
      out.push({ no, wire, fixed: buf.subarray(pos.i, pos.i + 8) });
      pos.i += 8;
    } else if (wire === 2) {
      const length = Number(readVarint(buf, pos));
      out.push({ no, wire, bytes: buf.subarray(pos.i, pos.i + length) });
      pos.i += length;
    } else if (wire === 5) {
      out.push({ no, wire, fixed: buf.subarray(pos.i, pos.i + 4) });
      pos.i += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

const messages = (list: Field[], no: number): Buffer[] =>
  list.filter((f) => f.no === no && f.bytes).map((f) => f.bytes!);
const message = (list: Field[], no: number): Buffer | undefined => messages(list, no)[0];
const text = (list: Field[], no: number): string => message(list, no)?.toString('utf8') ?? '';
const hex = (list: Field[], no: number): string => message(list, no)?.toString('hex') ?? '';
const varint = (list: Field[], no: number): number =>
  Number(list.find((f) => f.no === no && f.varint !== undefined)?.varint ?? 0n);

function protoValue(buf: Buffer): AttributeValue {
  const f = fields(buf)[0];
  if (!f) {
    return null;
  }
  switch (f.no) {
    case 1:
      return f.bytes!.toString('utf8');
    case 2:
      return f.varint !== 0n;
    case 3:
      return Number(BigInt.asIntN(64, f.varint!));
    case 4:
      return f.fixed!.readDoubleLE(0);
    case 5:
      return messages(fields(f.bytes!), 1).map(protoValue);
    case 6:
      return protoAttributes(messages(fields(f.bytes!), 1));
    case 7:
      return f.bytes!.toString('base64');
    default:
      return null;
  }
}

function protoAttributes(keyValues: Buffer[]): Attributes {
  return Object.fromEntries(
    keyValues.map((kv) => {
      const f = fields(kv);
      const value = message(f, 2);
      return [text(f, 1), value ? protoValue(value) : null];
    }),
  );
}

function decodeProtobufRequest(body: Buffer): ReceivedSpan[] {
  return messages(fields(body), 1).flatMap((resourceSpansBuf) => {
    const resourceSpans = fields(resourceSpansBuf);
    const resourceBuf = message(resourceSpans, 1);
    const resource = resourceBuf ? protoAttributes(messages(fields(resourceBuf), 1)) : {};
    return messages(resourceSpans, 2).flatMap((scopeSpansBuf) => {
      const scopeSpans = fields(scopeSpansBuf);
      const scopeBuf = message(scopeSpans, 1);
      const scope = scopeBuf ? text(fields(scopeBuf), 1) : '';
      return messages(scopeSpans, 2).map((spanBuf): ReceivedSpan => {
        const span = fields(spanBuf);
        const statusBuf = message(span, 15);
        const status = statusBuf ? fields(statusBuf) : [];
        return {
          traceId: hex(span, 1),
          spanId: hex(span, 2),
          parentSpanId: hex(span, 4),
          name: text(span, 5),
          kind: varint(span, 6),
          service: serviceOf(resource),
          scope,
          resource,
          attributes: protoAttributes(messages(span, 9)),
          events: messages(span, 11).map((eventBuf) => {
            const event = fields(eventBuf);
            return { name: text(event, 2), attributes: protoAttributes(messages(event, 3)) };
          }),
          status: { code: varint(status, 3), message: text(status, 2) },
        };
      });
    });
  });
}

function serviceOf(resource: Attributes): string {
  const name = resource['service.name'];
  return typeof name === 'string' ? name : '';
}
