import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { columnTypes } from '@keel/platform';

export class InitialSchema1764316800000 implements MigrationInterface {
  name = 'InitialSchema1764316800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = columnTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'profiles',
        columns: [
          // The user id that auth-service assigned: one profile per user, never generated here.
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'display_name', type: 'varchar', length: '100' },
          { name: 'bio', type: 'varchar', length: '500', isNullable: true },
          // Millisecond precision, as a JS Date and the pagination cursor carry: a
          // microsecond value would sort after its own cursor and repeat across pages. No
          // default either: the app writes both, so every row has the same text form on SQLite.
          { name: 'created_at', type: t.timestamp, precision: 3 },
          { name: 'updated_at', type: t.timestamp, precision: 3 },
        ],
      }),
    );
    // Emails are stored normalised, so a plain unique index is the case-insensitive one.
    await queryRunner.createIndex(
      'profiles',
      new TableIndex({ name: 'uq_profiles_email', columnNames: ['email'], isUnique: true }),
    );
    // Serves the admin listing: ORDER BY (created_at, id) and its keyset condition.
    await queryRunner.createIndex(
      'profiles',
      new TableIndex({ name: 'ix_profiles_created_at_id', columnNames: ['created_at', 'id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('profiles');
  }
}
