import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/** The revocation feed asks for sessions revoked since a time, several times a second. */
export class SessionsRevokedAtIndex1764921600000 implements MigrationInterface {
  name = 'SessionsRevokedAtIndex1764921600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'sessions',
      new TableIndex({ name: 'ix_sessions_revoked_at', columnNames: ['revoked_at'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('sessions', 'ix_sessions_revoked_at');
  }
}
