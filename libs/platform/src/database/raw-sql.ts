import { type DataSource } from 'typeorm';

/**
 * What raw SQL on a hot path must know of the two supported drivers. Raw statements skip
 * TypeORM's query building and entity hydration, but then nothing translates for them:
 * placeholders, how a timestamp is stored and what a `RETURNING` statement answers differ.
 */
export interface RawSqlDialect {
  readonly postgres: boolean;
  /**
   * `sql`, written with `?` placeholders, in the driver's syntax: kept for SQLite, numbered
   * `$1, $2, …` in order for PostgreSQL. Call it once per statement (at construction), not
   * per query. The statement must hold no other `?` (no string literal with one).
   */
  statement(sql: string): string;
  /**
   * A timestamp parameter exactly as TypeORM would store it, so TypeORM's reads and other raw
   * reads of the column keep working: a Date for PostgreSQL (timestamptz); for SQLite the UTC
   * text `YYYY-MM-DD HH:MM:SS.SSS` of `DateUtils.mixedDateToUtcDatetimeString`. The text
   * form also compares correctly as a string in SQL (`expires_at > ?`).
   */
  timestamp(date: Date): Date | string;
  /**
   * The rows of a statement with `RETURNING`: TypeORM's pg query runner answers
   * `[rows, rowCount]` for an UPDATE or DELETE, and the rows alone otherwise.
   */
  returned<T>(result: T[] | [T[], number]): T[];
}

const POSTGRES: RawSqlDialect = {
  postgres: true,
  statement: (sql) => {
    let index = 0;
    return sql.replace(/\?/g, () => `$${++index}`);
  },
  timestamp: (date) => date,
  returned: <T>(result: T[] | [T[], number]) =>
    (Array.isArray(result[0]) ? result[0] : result) as T[],
};

const SQLITE: RawSqlDialect = {
  postgres: false,
  statement: (sql) => sql,
  timestamp: (date) => date.toISOString().replace('T', ' ').slice(0, 23),
  returned: <T>(result: T[] | [T[], number]) => result as T[],
};

/**
 * A timestamp column read by raw SQL, as a Date: PostgreSQL answers Dates, SQLite the UTC text
 * `YYYY-MM-DD HH:MM:SS.SSS` that {@link RawSqlDialect.timestamp} (and TypeORM) write.
 */
export function storedTimestamp(value: Date | string): Date {
  return value instanceof Date ? value : new Date(`${value.replace(' ', 'T')}Z`);
}

/** The dialect of `dataSource`'s driver (`postgres`, else TypeORM's SQLite format). */
export function rawSqlDialect(dataSource: DataSource): RawSqlDialect {
  return dataSource.options.type === 'postgres' ? POSTGRES : SQLITE;
}
