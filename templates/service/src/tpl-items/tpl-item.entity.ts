import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One record of tpl-service, owned by the user who created it. */
@Entity({ name: 'tpl_items' })
export class TplItem {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ name: 'owner_id', type: 'uuid' })
  ownerId!: string;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  /** Written by the app (not a database default), with millisecond precision on both drivers. */
  @Column({ name: 'created_at', type: Date, precision: 3 })
  createdAt!: Date;
}
