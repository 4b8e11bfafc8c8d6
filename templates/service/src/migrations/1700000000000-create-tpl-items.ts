import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';
import { columnTypes } from '@keel/platform';

/** The first schema of tpl-service; later changes are new migrations, never edits of this one. */
export class CreateTplItems1700000000000 implements MigrationInterface {
  name = 'CreateTplItems1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const t = columnTypes(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: 'tpl_items',
        columns: [
          { name: 'id', type: t.uuid, isPrimary: true },
          // The user (auth-service's id) who created it: only they can read it.
          { name: 'owner_id', type: t.uuid },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'created_at', type: t.timestamp, precision: 3 },
        ],
      }),
    );
    // Serves the listing: WHERE owner_id = ? ORDER BY created_at DESC.
    await queryRunner.createIndex(
      'tpl_items',
      new TableIndex({
        name: 'ix_tpl_items_owner_created',
        columnNames: ['owner_id', 'created_at'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('tpl_items');
  }
}
