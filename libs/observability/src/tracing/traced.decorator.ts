import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { isObservable, Observable } from 'rxjs';

/** Name of the tracer that `@Traced()` spans come from. */
export const TRACED_TRACER_NAME = '@keel/observability';

const WRAPPED = Symbol('keel.traced');

export interface TracedOptions {
  /** Span name; defaults to `Class.method`. Only for a method decorator. */
  name?: string;
  /** Static attributes set on every span. */
  attributes?: Attributes;
  kind?: SpanKind;
}

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

function recordFailure(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
  } else {
    span.recordException(String(error));
  }
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}

/**
 * A span for an Observable's subscription, active while the source is subscribed, ended on
 * complete, error or unsubscribe (once, whichever comes first).
 */
function traceObservable(source: Observable<unknown>, span: Span): Observable<unknown> {
  const spanContext = trace.setSpan(context.active(), span);
  let ended = false;
  const end = (): void => {
    if (!ended) {
      ended = true;
      span.end();
    }
  };
  return new Observable((subscriber) => {
    const subscription = context.with(spanContext, () =>
      source.subscribe({
        next: (value) => subscriber.next(value),
        error: (error: unknown) => {
          recordFailure(span, error);
          end();
          subscriber.error(error);
        },
        complete: () => {
          end();
          subscriber.complete();
        },
      }),
    );
    return () => {
      subscription.unsubscribe();
      end();
    };
  });
}

function wrap(original: AnyFunction, spanName: string, options: TracedOptions): AnyFunction {
  const spanOptions = { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes };
  const traced = function (this: unknown, ...args: unknown[]): unknown {
    const tracer = trace.getTracer(TRACED_TRACER_NAME);
    return tracer.startActiveSpan(spanName, spanOptions, (span) => {
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (error) {
        recordFailure(span, error);
        span.end();
        throw error;
      }
      // Not only `async` methods return promises. Other thenables are left alone: calling
      // `then` on a lazy one (a query builder) would start its work.
      if (result instanceof Promise) {
        return result.then(
          (value: unknown) => {
            span.end();
            return value;
          },
          (error: unknown) => {
            recordFailure(span, error);
            span.end();
            throw error;
          },
        );
      }
      if (isObservable(result)) {
        return traceObservable(result, span);
      }
      span.end();
      return result;
    });
  };
  // Nest and others key metadata on the method function itself (route paths, guards, roles,
  // event patterns): the wrapper must carry what was defined on the original so far.
  if (typeof Reflect.getOwnMetadataKeys === 'function') {
    for (const key of Reflect.getOwnMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), traced);
    }
  }
  Object.defineProperty(traced, 'name', { value: original.name });
  Object.defineProperty(traced, 'length', { value: original.length });
  Object.defineProperty(traced, WRAPPED, { value: true });
  return traced;
}

function isWrapped(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as unknown as Record<symbol, unknown>)[WRAPPED] === true;
}

/**
 * Opens a child span named `Class.method` around a method, or around every method of a
 * class. Thrown errors and rejected promises are recorded on the span with an error status
 * and rethrown unchanged. Async methods and Promise- or Observable-returning methods are
 * traced until they settle (an Observable: from subscription to complete/error/unsubscribe).
 * Metadata other decorators set on the method is kept.
 *
 * ```ts
 * @Traced()
 * async hash(password: string): Promise<string> { … }
 * ```
 *
 * On a class, getters, setters and the constructor are left alone, and methods that carry
 * their own `@Traced(...)` keep it.
 */
export function Traced(nameOrOptions?: string | TracedOptions): MethodDecorator & ClassDecorator {
  const options: TracedOptions =
    typeof nameOrOptions === 'string' ? { name: nameOrOptions } : (nameOrOptions ?? {});
  return ((target: object, propertyKey?: string | symbol, descriptor?: PropertyDescriptor) => {
    if (propertyKey !== undefined && descriptor !== undefined) {
      if (typeof descriptor.value !== 'function') {
        throw new TypeError(
          `@Traced() can only decorate methods; ${String(propertyKey)} is not one`,
        );
      }
      const owner = typeof target === 'function' ? target.name : target.constructor.name;
      descriptor.value = wrap(
        descriptor.value as AnyFunction,
        options.name ?? `${owner}.${String(propertyKey)}`,
        options,
      );
      return descriptor;
    }
    const constructor = target as { name: string; prototype: object };
    const classOptions = { ...options, name: undefined };
    for (const key of Object.getOwnPropertyNames(constructor.prototype)) {
      const method = Object.getOwnPropertyDescriptor(constructor.prototype, key);
      if (
        key === 'constructor' ||
        !method ||
        typeof method.value !== 'function' ||
        isWrapped(method.value)
      ) {
        continue;
      }
      Object.defineProperty(constructor.prototype, key, {
        ...method,
        value: wrap(method.value as AnyFunction, `${constructor.name}.${key}`, classOptions),
      });
    }
    return undefined;
  }) as MethodDecorator & ClassDecorator;
}
