import 'reflect-metadata';
import { SetMetadata } from '@nestjs/common';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { firstValueFrom, Observable, Subject, throwError, toArray } from 'rxjs';
import { Traced } from './traced.decorator';

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

function finished(name: string): ReadableSpan[] {
  return exporter.getFinishedSpans().filter((span) => span.name === name);
}

function only(name: string): ReadableSpan {
  const spans = finished(name);
  expect(spans).toHaveLength(1);
  return spans[0];
}

/** Runs `fn` inside a parent span and returns that span's id. */
function withinParent<T>(fn: () => T): { result: T; parentSpanId: string } {
  return trace.getTracer('test').startActiveSpan('parent', (parent) => {
    const result = fn();
    parent.end();
    return { result, parentSpanId: parent.spanContext().spanId };
  });
}

class Hasher {
  readonly factor = 2;

  @Traced()
  double(value: number): number {
    return value * this.factor;
  }

  @Traced()
  explode(): never {
    throw new Error('boom');
  }

  @Traced()
  async later(value: string, gate: Promise<void>): Promise<string> {
    await gate;
    // A span opened deep inside keeps the traced method's span as its parent.
    trace.getTracer('test').startSpan('inner').end();
    return value.toUpperCase();
  }

  @Traced()
  rejectsWithoutAsync(): Promise<never> {
    return Promise.reject(new TypeError('nope'));
  }

  @Traced()
  lazy(onThen: () => void): PromiseLike<number> {
    return {
      then: (resolve) => (onThen(), Promise.resolve(1).then(resolve)),
    };
  }

  @Traced()
  stream(source: Observable<number>): Observable<number> {
    return source;
  }

  @Traced('custom.name')
  @SetMetadata('roles', ['admin'])
  guarded(): string {
    return 'ok';
  }
}

@Traced()
class Cache {
  private readonly store = new Map<string, string>();

  get size(): number {
    return this.store.size;
  }

  put(key: string, value: string): void {
    this.store.set(key, value);
  }

  lookup(key: string): string | undefined {
    return this.store.get(key);
  }

  @Traced('cache.special')
  special(): string {
    return 'special';
  }
}

describe(Traced.name, () => {
  beforeAll(() => {
    provider.register();
  });

  afterEach(() => {
    exporter.reset();
  });

  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
    context.disable();
  });

  it('opens a child span named Class.method around a sync method and keeps `this`', () => {
    const { result, parentSpanId } = withinParent(() => new Hasher().double(21));

    expect(result).toBe(42);
    const span = only('Hasher.double');
    expect(span.parentSpanContext?.spanId).toBe(parentSpanId);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records a thrown error with error status and rethrows it unchanged', () => {
    const hasher = new Hasher();

    expect(() => hasher.explode()).toThrow('boom');

    const span = only('Hasher.explode');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'boom' });
    expect(span.events.map((event) => event.name)).toEqual(['exception']);
    expect(span.events[0].attributes?.['exception.message']).toBe('boom');
  });

  it('keeps an async method span open until it settles and parents spans after awaits', async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));

    const pending = new Hasher().later('abc', gate);
    await new Promise((resolve) => setImmediate(resolve));
    expect(finished('Hasher.later')).toHaveLength(0);

    open();
    await expect(pending).resolves.toBe('ABC');
    const span = only('Hasher.later');
    expect(only('inner').parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('records the rejection of a promise returned by a non-async method', async () => {
    await expect(new Hasher().rejectsWithoutAsync()).rejects.toThrow(TypeError);

    const span = only('Hasher.rejectsWithoutAsync');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'nope' });
    expect(span.events[0].attributes?.['exception.type']).toBe('TypeError');
  });

  it('leaves a lazy thenable unstarted (only real promises are awaited)', () => {
    const onThen = jest.fn();

    new Hasher().lazy(onThen);

    expect(onThen).not.toHaveBeenCalled();
    expect(only('Hasher.lazy').status.code).toBe(SpanStatusCode.UNSET);
  });

  it('traces an Observable from subscription until it completes', async () => {
    const source = new Subject<number>();
    const values = firstValueFrom(new Hasher().stream(source).pipe(toArray()));

    source.next(1);
    source.next(2);
    expect(finished('Hasher.stream')).toHaveLength(0);
    source.complete();

    await expect(values).resolves.toEqual([1, 2]);
    expect(only('Hasher.stream').status.code).toBe(SpanStatusCode.UNSET);
  });

  it('runs the Observable subscription inside the span and records its error', async () => {
    const source = new Observable<number>((subscriber) => {
      trace.getTracer('test').startSpan('subscribed').end();
      subscriber.error(new Error('stream failed'));
    });

    await expect(firstValueFrom(new Hasher().stream(source))).rejects.toThrow('stream failed');

    const span = only('Hasher.stream');
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: 'stream failed' });
    expect(only('subscribed').parentSpanContext?.spanId).toBe(span.spanContext().spanId);
  });

  it('ends the span when the subscriber unsubscribes early', () => {
    const subscription = new Hasher().stream(new Subject<number>()).subscribe();
    expect(finished('Hasher.stream')).toHaveLength(0);

    subscription.unsubscribe();

    expect(only('Hasher.stream').status.code).toBe(SpanStatusCode.UNSET);
  });

  it('ends the span once when the Observable errors on subscription', async () => {
    await expect(
      firstValueFrom(new Hasher().stream(throwError(() => new Error('sync')))),
    ).rejects.toThrow('sync');

    expect(finished('Hasher.stream')).toHaveLength(1);
  });

  it('keeps metadata other decorators set on the method, and its name', () => {
    const method = Object.getOwnPropertyDescriptor(Hasher.prototype, 'guarded')!
      .value as () => string;

    expect(Reflect.getMetadata('roles', method)).toEqual(['admin']);
    expect(method.name).toBe('guarded');
    expect(new Hasher().guarded()).toBe('ok');
    expect(only('custom.name')).toBeDefined();
  });

  it('on a class, traces every method, leaves getters alone and keeps method-level names', () => {
    const cache = new Cache();

    cache.put('a', '1');
    expect(cache.lookup('a')).toBe('1');
    expect(cache.size).toBe(1);
    expect(cache.special()).toBe('special');

    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual([
      'Cache.put',
      'Cache.lookup',
      'cache.special',
    ]);
  });

  it('still calls through when no tracer provider is registered', () => {
    trace.disable();
    try {
      expect(new Hasher().double(2)).toBe(4);
      expect(exporter.getFinishedSpans()).toHaveLength(0);
    } finally {
      provider.register();
    }
  });
});
