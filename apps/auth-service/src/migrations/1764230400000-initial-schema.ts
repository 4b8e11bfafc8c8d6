import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { columnTypes } from '@keel/platform';

export class InitialSchema1764230400000 implements MigrationInterface {
  name = 'InitialSchema1764230400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = columnTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'credentials',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'password_hash', type: 'varchar', length: '255' },
          { name: 'roles', type: 'varchar', length: '255', default: "''" },
          { name: 'created_at', type: t.timestamp, default: 'CURRENT_TIMESTAMP' },
          { name: 'updated_at', type: t.timestamp, default: 'CURRENT_TIMESTAMP' },
        ],
      }),
    );
    // Emails are stored normalised, so a plain unique index is the case-insensitive one.
    await queryRunner.createIndex(
      'credentials',
      new TableIndex({ name: 'uq_credentials_email', columnNames: ['email'], isUnique: true }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          { name: 'family_id', type: t.uuid },
          { name: 'user_id', type: t.uuid },
          { name: 'token_hash', type: 'varchar', length: '64' },
          { name: 'expires_at', type: t.timestamp },
          { name: 'rotated_at', type: t.timestamp, isNullable: true },
          { name: 'revoked_at', type: t.timestamp, isNullable: true },
          { name: 'created_at', type: t.timestamp, default: 'CURRENT_TIMESTAMP' },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'credentials',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
    await queryRunner.createIndex(
      'sessions',
      new TableIndex({
        name: 'uq_sessions_token_hash',
        columnNames: ['token_hash'],
        isUnique: true,
      }),
    );
    await queryRunner.createIndex(
      'sessions',
      new TableIndex({ name: 'ix_sessions_family_id', columnNames: ['family_id'] }),
    );
    await queryRunner.createIndex(
      'sessions',
      new TableIndex({ name: 'ix_sessions_user_id', columnNames: ['user_id'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sessions');
    await queryRunner.dropTable('credentials');
  }
}
