import { Injectable } from '@nestjs/common';
import { isUniqueViolation, normalizeEmail, rawSqlDialect, storedTimestamp } from '@keel/platform';
import { InjectRepository } from '@nestjs/typeorm';
import { type Repository } from 'typeorm';
import { type CreateProfileDto } from './dto/create-profile.dto';
import {
  type ProfileDto,
  type ProfilePageDto,
  type PublicProfileDto,
  toProfileDto,
  toPublicProfileDto,
} from './dto/profile.dto';
import { type UpdateProfileDto } from './dto/update-profile.dto';
import { decodePageCursor, encodePageCursor } from './page-cursor';
import { ProfileCache } from './profile-cache.service';
import { Profile } from './profile.entity';
import { ProfileErrors } from './profiles.errors';

/**
 * One profile by id: the hot read of `users/me` and `users/:id` (on a cache miss). Raw SQL,
 * not `findOneBy`: TypeORM built a query builder, aliases and an entity transformer per call
 * for a one-row primary-key lookup.
 */
const FIND_SQL =
  'SELECT id, email, display_name, bio, created_at, updated_at FROM profiles WHERE id = ?';

interface ProfileRow {
  id: string;
  email: string;
  display_name: string;
  bio: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

export interface CreateProfileResult {
  profile: ProfileDto;
  /** false when the profile already existed (a retried call). */
  created: boolean;
}

/** Profiles: created by auth-service, read and edited by their owner, listed by admins. */
@Injectable()
export class ProfilesService {
  /** {@link FIND_SQL} in the driver's placeholders, once. */
  private readonly findSql: string;

  constructor(
    @InjectRepository(Profile) private readonly profiles: Repository<Profile>,
    private readonly cache: ProfileCache,
  ) {
    this.findSql = rawSqlDialect(profiles.manager.connection).statement(FIND_SQL);
  }

  /**
   * Creates the profile of a registered user. Idempotent on `id`: a retry (same id, same
   * email) answers the stored profile unchanged, so a display name edited since is kept.
   */
  async create(dto: CreateProfileDto): Promise<CreateProfileResult> {
    const id = dto.id.toLowerCase();
    const email = normalizeEmail(dto.email);
    const existing = await this.profiles.findOneBy({ id });
    if (existing) {
      return this.replay(existing, email);
    }
    const now = new Date();
    const profile: Profile = {
      id,
      email,
      displayName: dto.displayName,
      bio: null,
      createdAt: now,
      updatedAt: now,
    };
    try {
      await this.profiles.insert(profile);
    } catch (error) {
      if (!isUniqueViolation(error)) {
        throw error;
      }
      // Either a concurrent retry inserted this id first, or the email is someone else's.
      const winner = await this.profiles.findOneBy({ id });
      if (winner) {
        return this.replay(winner, email);
      }
      throw ProfileErrors.emailTaken();
    }
    return { profile: toProfileDto(profile), created: true };
  }

  /**
   * Removes a profile: auth-service's compensation when a registration it could not finish
   * may have created one. Idempotent: deleting a missing profile succeeds.
   */
  async remove(id: string): Promise<void> {
    const key = id.toLowerCase();
    await this.profiles.delete({ id: key });
    this.cache.invalidate(key);
  }

  /** The caller's own profile; 404 when the token is valid but no profile was made yet. */
  async get(id: string): Promise<ProfileDto> {
    return toProfileDto(await this.find(id));
  }

  /** Applies the given fields; an empty update answers the profile unchanged. */
  async update(id: string, dto: UpdateProfileDto): Promise<ProfileDto> {
    const changes: Partial<Profile> = {};
    if (dto.displayName !== undefined) {
      changes.displayName = dto.displayName;
    }
    if (dto.bio !== undefined) {
      changes.bio = dto.bio === null || dto.bio === '' ? null : dto.bio;
    }
    if (Object.keys(changes).length === 0) {
      return this.get(id);
    }
    const key = id.toLowerCase();
    const result = await this.profiles.update({ id: key }, { ...changes, updatedAt: new Date() });
    if (result.affected === 0) {
      throw ProfileErrors.notFound();
    }
    this.cache.invalidate(key);
    return this.get(key);
  }

  /** The public view of any profile, served from the cache when it can be. */
  async getPublic(id: string): Promise<PublicProfileDto> {
    const key = id.toLowerCase();
    const cached = this.cache.get(key);
    if (cached) {
      return cached;
    }
    const profile = toPublicProfileDto(await this.find(key));
    this.cache.set(profile);
    return profile;
  }

  /** Keyset pagination in (created_at, id) order: stable while rows are added. */
  async list(limit: number, cursorText: string | undefined): Promise<ProfilePageDto> {
    const query = this.profiles
      .createQueryBuilder('p')
      .orderBy('p.createdAt', 'ASC')
      .addOrderBy('p.id', 'ASC')
      // One row more than asked tells whether another page follows.
      .limit(limit + 1);
    if (cursorText !== undefined) {
      const cursor = decodePageCursor(cursorText);
      if (!cursor) {
        throw ProfileErrors.invalidCursor();
      }
      // A row-value comparison: both drivers read it off the (created_at, id) index.
      query.where('(p.createdAt, p.id) > (:createdAt, :id)', cursor);
    }
    const rows = await query.getMany();
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      items: page.map(toProfileDto),
      nextCursor: rows.length > limit && last ? encodePageCursor(last) : null,
    };
  }

  private async find(id: string): Promise<Profile> {
    // Ids are stored lower-cased; PostgreSQL's uuid type ignores case, SQLite's text does not.
    const rows: ProfileRow[] = await this.profiles.query(this.findSql, [id.toLowerCase()]);
    const row = rows[0];
    if (!row) {
      throw ProfileErrors.notFound();
    }
    return {
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      bio: row.bio,
      createdAt: storedTimestamp(row.created_at),
      updatedAt: storedTimestamp(row.updated_at),
    };
  }

  private replay(existing: Profile, email: string): CreateProfileResult {
    if (existing.email !== email) {
      throw ProfileErrors.idTaken();
    }
    return { profile: toProfileDto(existing), created: false };
  }
}
