import { type MigrationInterface, type QueryRunner, Table, DataSource } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/database';
import { describeWithPostgres, postgresUrl } from '../../../../test/support/services';
import { advisoryLockKey, runMigrationsLocked } from './run-migrations';

/** A migration slow enough that two unlocked runners would both find it pending. */
class SlowCreate1700000000000 implements MigrationInterface {
  name = 'SlowCreate1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('SELECT pg_sleep(0.3)');
    await queryRunner.createTable(
      new Table({ name: 'things', columns: [{ name: 'id', type: 'int', isPrimary: true }] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('things');
  }
}

describe('advisoryLockKey', () => {
  it('is stable per name and differs between names', () => {
    expect(advisoryLockKey('auth_service_migrations')).toBe(
      advisoryLockKey('auth_service_migrations'),
    );
    expect(advisoryLockKey('auth_service_migrations')).not.toBe(
      advisoryLockKey('users_service_migrations'),
    );
    expect(BigInt(advisoryLockKey('x'))).toBeGreaterThanOrEqual(-(2n ** 63n));
  });
});

describeWithPostgres()('runMigrationsLocked on PostgreSQL', () => {
  let database: TestDatabase;
  const sources: DataSource[] = [];

  beforeAll(async () => {
    database = await createTestDatabase(postgresUrl!);
  });

  afterAll(async () => {
    await Promise.all(sources.filter((s) => s.isInitialized).map((s) => s.destroy()));
    await database?.drop();
  });

  it('lets replicas starting together migrate an empty database one after the other', async () => {
    const replica = async () => {
      const source = new DataSource({
        type: 'postgres',
        url: database.url,
        migrations: [SlowCreate1700000000000],
        migrationsTableName: 'test_migrations',
      });
      sources.push(source);
      await source.initialize();
      await runMigrationsLocked(source);
      return source;
    };
    const [a] = await Promise.all([replica(), replica(), replica()]);
    const applied = await a.query<{ name: string }[]>('SELECT name FROM test_migrations');
    expect(applied.map((row) => row.name)).toEqual(['SlowCreate1700000000000']);
  });
});
