import { DataSource } from 'typeorm';
import { DateUtils } from 'typeorm/util/DateUtils';
import { rawSqlDialect, storedTimestamp } from './raw-sql';

describe('rawSqlDialect', () => {
  const sqlite = rawSqlDialect(new DataSource({ type: 'better-sqlite3', database: ':memory:' }));
  const postgres = rawSqlDialect(new DataSource({ type: 'postgres' }));

  it('numbers the placeholders for PostgreSQL and keeps them for SQLite', () => {
    const sql = 'UPDATE t SET a = ? WHERE b = ? AND c > ?';
    expect(postgres.statement(sql)).toBe('UPDATE t SET a = $1 WHERE b = $2 AND c > $3');
    expect(sqlite.statement(sql)).toBe(sql);
  });

  it("writes SQLite timestamps exactly as TypeORM's sqlite driver stores a Date", () => {
    for (const date of [
      new Date(0),
      new Date('2026-01-02T03:04:05.006Z'),
      new Date('2026-12-31T23:59:59.999Z'),
      new Date(),
    ]) {
      expect(sqlite.timestamp(date)).toBe(DateUtils.mixedDateToUtcDatetimeString(date));
    }
    const date = new Date();
    expect(postgres.timestamp(date)).toBe(date);
  });

  it("unwraps the pg runner's [rows, rowCount] answer to an UPDATE … RETURNING", () => {
    const rows = [{ id: 'a' }];
    expect(postgres.returned([rows, 1])).toBe(rows);
    expect(postgres.returned([[], 0])).toEqual([]);
    expect(postgres.returned(rows)).toBe(rows);
    expect(postgres.returned([])).toEqual([]);
    expect(sqlite.returned(rows)).toBe(rows);
  });

  it('reads a stored timestamp back as the instant written, on both drivers', () => {
    const date = new Date('2026-01-02T03:04:05.006Z');
    expect(storedTimestamp(sqlite.timestamp(date))).toEqual(date);
    expect(storedTimestamp(postgres.timestamp(date))).toBe(date);
  });
});
