import { createHash } from 'node:crypto';
import { type DataSource } from 'typeorm';

/**
 * Runs pending migrations. On PostgreSQL they run under a session advisory lock named after
 * the migrations table, so replicas starting together on an empty database take turns
 * instead of racing to create the same tables; the later ones find nothing left to do.
 */
export async function runMigrationsLocked(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const lockKey = advisoryLockKey(dataSource.options.migrationsTableName ?? 'migrations');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [lockKey]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [lockKey]);
    }
  } finally {
    await runner.release();
  }
}

/** A stable signed 64-bit key (as text, for the driver) derived from a name. */
export function advisoryLockKey(name: string): string {
  return createHash('sha256')
    .update(`keel:migrations:${name}`)
    .digest()
    .readBigInt64BE(0)
    .toString();
}
