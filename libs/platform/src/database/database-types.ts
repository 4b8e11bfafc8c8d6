import { type QueryRunner } from 'typeorm';

/**
 * Column types that differ between the two supported drivers, for migrations written with
 * TypeORM's `Table` API so that one migration serves SQLite and PostgreSQL.
 */
export function columnTypes(queryRunner: QueryRunner): { uuid: string; timestamp: string } {
  const postgres = queryRunner.connection.options.type === 'postgres';
  return {
    uuid: postgres ? 'uuid' : 'varchar',
    timestamp: postgres ? 'timestamptz' : 'datetime',
  };
}
