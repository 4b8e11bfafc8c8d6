import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A user's sign-in credentials; `id` is the user id shared with users-service. */
@Entity({ name: 'credentials' })
export class Credential {
  @PrimaryColumn('uuid')
  id!: string;

  /** Normalised (trimmed, lower-cased); unique. */
  @Column({ type: 'varchar', length: 254 })
  email!: string;

  @Column({ name: 'password_hash', type: 'varchar', length: 255 })
  passwordHash!: string;

  /** Comma-separated role names. */
  @Column({ type: 'varchar', length: 255, default: '' })
  roles!: string;

  @CreateDateColumn({ name: 'created_at' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}
