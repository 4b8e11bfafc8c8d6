import { basename } from 'node:path';
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import {
  InstrumentationBase,
  type InstrumentationConfig,
  InstrumentationNodeModuleDefinition,
  InstrumentationNodeModuleFile,
  isWrapped,
} from '@opentelemetry/instrumentation';

const QUERY_RUNNER_FILE = 'typeorm/driver/better-sqlite3/BetterSqlite3QueryRunner.js';
const SUPPORTED = ['>=0.3.0 <0.4'];

type Query = (this: SqliteQueryRunner, query: string, ...rest: unknown[]) => Promise<unknown>;

interface SqliteQueryRunner {
  driver?: { options?: { database?: unknown } };
}

interface QueryRunnerModule {
  BetterSqlite3QueryRunner: { prototype: { query: Query } };
}

/** `SELECT`, `INSERT`, … of a statement; `BEGIN`/`COMMIT` for transaction control. */
export function sqlOperation(sql: string): string {
  const match = /^\s*([A-Za-z]+)/.exec(sql);
  return match ? match[1].toUpperCase() : 'QUERY';
}

/** The table a simple statement targets, when it can be read off the SQL cheaply. */
export function sqlTable(sql: string): string | undefined {
  const match = /\b(?:FROM|INTO|UPDATE|TABLE)\s+["`[]?([A-Za-z0-9_]+)/i.exec(sql);
  return match?.[1];
}

/**
 * Client spans for TypeORM's better-sqlite3 driver, so that the default (SQLite) set-up shows
 * its queries as PostgreSQL does through instrumentation-pg. Hooks the query runner, not the
 * driver: TypeORM is the only SQLite user in these apps, and on PostgreSQL this file is never
 * loaded, so no query gets two spans. Only the SQL text with its `?` placeholders is recorded,
 * never the parameters (they hold password hashes and token hashes).
 */
export class TypeormSqliteInstrumentation extends InstrumentationBase {
  constructor(config: InstrumentationConfig & { requireParentSpan?: boolean } = {}) {
    super('@keel/instrumentation-typeorm-sqlite', '1.0.0', config);
  }

  protected init(): InstrumentationNodeModuleDefinition {
    return new InstrumentationNodeModuleDefinition('typeorm', SUPPORTED, undefined, undefined, [
      new InstrumentationNodeModuleFile(
        QUERY_RUNNER_FILE,
        SUPPORTED,
        (moduleExports: QueryRunnerModule) => {
          const proto = moduleExports.BetterSqlite3QueryRunner.prototype;
          if (isWrapped(proto.query)) {
            this._unwrap(proto, 'query');
          }
          this._wrap(proto, 'query', (original) => this.wrapQuery(original));
          return moduleExports;
        },
        (moduleExports?: QueryRunnerModule) => {
          if (moduleExports) {
            this._unwrap(moduleExports.BetterSqlite3QueryRunner.prototype, 'query');
          }
        },
      ),
    ]);
  }

  private wrapQuery(original: Query): Query {
    // The runner is `this` inside the wrapper; the instrumentation is needed beside it.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const instrumentation = this;
    return function tracedQuery(this: SqliteQueryRunner, sql: string, ...rest: unknown[]) {
      const config = instrumentation.getConfig() as { requireParentSpan?: boolean };
      if (config.requireParentSpan && !trace.getSpan(context.active())) {
        return original.call(this, sql, ...rest);
      }
      const operation = sqlOperation(sql);
      const table = sqlTable(sql);
      const database = this.driver?.options?.database;
      const namespace = typeof database === 'string' ? basename(database) : 'sqlite';
      const span = instrumentation.tracer.startSpan(`${operation} ${table ?? namespace}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system': 'sqlite',
          'db.system.name': 'sqlite',
          'db.namespace': namespace,
          'db.operation.name': operation,
          ...(table ? { 'db.collection.name': table } : {}),
          'db.query.text': sql,
        },
      });
      return context
        .with(trace.setSpan(context.active(), span), () => original.call(this, sql, ...rest))
        .then(
          (result) => {
            span.end();
            return result;
          },
          (error: unknown) => {
            fail(span, error);
            throw error;
          },
        );
    };
  }
}

function fail(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
  }
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
  span.end();
}
