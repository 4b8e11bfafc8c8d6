import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * A user's profile. `id` is the user id from auth-service. Timestamps are written by the
 * app (not database defaults) so they have the millisecond precision the cursor carries.
 */
@Entity({ name: 'profiles' })
export class Profile {
  @PrimaryColumn('uuid')
  id!: string;

  /** Normalised (trimmed, lower-cased); unique. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'display_name', type: 'varchar', length: 100 })
  displayName!: string;

  @Column({ type: 'varchar', length: 500, nullable: true })
  bio!: string | null;

  @Column({ name: 'created_at', type: Date, precision: 3 })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: Date, precision: 3 })
  updatedAt!: Date;
}
