import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG } from '@keel/platform';
import { RevocationList, type RevocationFeedPage } from '@keel/security';
import { IsNull, Not, type Repository } from 'typeorm';
import { hashRefreshToken, newRefreshToken } from '../auth/refresh-token';
import { type AuthConfig } from '../config/auth-config';
import { Session } from './session.entity';

/** A refresh token and the session (family) it belongs to, the access tokens' `sid`. */
export interface IssuedSession {
  sessionId: string;
  refreshToken: string;
}

/**
 * How long after its revocation a session stays on the revocation list: as long as an access
 * token issued just then could live, plus clock skew between services.
 */
const REVOCATION_SKEW_MS = 60_000;

/**
 * The session a refresh token names and whether its family is already revoked, in one round
 * trip (the refresh path's hot read; TypeORM's `findOneBy` + `existsBy` were two queries and a
 * query builder each). `?` and `$1` are the two drivers' placeholders.
 */
const LOOKUP_SQL = `SELECT s.id, s.family_id, s.user_id, s.expires_at, s.rotated_at, s.revoked_at,
  EXISTS (SELECT 1 FROM sessions f WHERE f.family_id = s.family_id AND f.revoked_at IS NOT NULL)
    AS family_revoked
  FROM sessions s WHERE s.token_hash = `;

interface LookupRow {
  id: string;
  family_id: string;
  user_id: string;
  expires_at: Date | string;
  rotated_at: Date | string | null;
  revoked_at: Date | string | null;
  family_revoked: boolean | number;
}

export type RotationResult =
  | { outcome: 'rotated'; userId: string; sessionId: string; refreshToken: string }
  | { outcome: 'reuse'; userId: string }
  | { outcome: 'invalid' };

/**
 * Refresh-token sessions: issue, rotate with reuse detection, revoke. A session is a token
 * family; once any row of a family is revoked the whole family is dead, and its id is on the
 * revocation list (this process at once, other processes through the feed) so its access
 * tokens stop working too.
 */
@Injectable()
export class SessionStore {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly revocations: RevocationList,
  ) {}

  /** Starts a new session family and returns its first refresh token. */
  async start(userId: string): Promise<IssuedSession> {
    const sessionId = randomUUID();
    return { sessionId, refreshToken: await this.issue(userId, sessionId) };
  }

  /**
   * Exchanges a refresh token for a new one. A token that was already rotated is a reuse:
   * the whole family is revoked, so a thief and the victim both lose the session.
   */
  async rotate(refreshToken: string): Promise<RotationResult> {
    const session = await this.lookup(hashRefreshToken(refreshToken));
    if (!session || session.revoked_at !== null || Boolean(session.family_revoked)) {
      return { outcome: 'invalid' };
    }
    const familyId = session.family_id;
    const userId = session.user_id;
    if (session.rotated_at !== null) {
      await this.revokeFamily(familyId);
      return { outcome: 'reuse', userId };
    }
    if (toEpochMs(session.expires_at) <= Date.now()) {
      return { outcome: 'invalid' };
    }
    // Conditional update: of two concurrent rotations of one token only one wins; the
    // loser is treated as a reuse.
    const claimed = await this.sessions.update(
      { id: session.id, rotatedAt: IsNull(), revokedAt: IsNull() },
      { rotatedAt: new Date() },
    );
    if (claimed.affected !== 1) {
      await this.revokeFamily(familyId);
      return { outcome: 'reuse', userId };
    }
    const next = await this.issue(userId, familyId);
    // A concurrent reuse may have revoked the family between the claim and the insert, with
    // an UPDATE that could not see the new row: then the new token dies with its family.
    if (await this.familyRevoked(familyId)) {
      await this.revokeFamily(familyId);
      return { outcome: 'invalid' };
    }
    return {
      outcome: 'rotated',
      userId,
      sessionId: familyId,
      refreshToken: next,
    };
  }

  /** Revokes every session of a user (the operator's `revoke-sessions`); returns how many. */
  async revokeAllOf(userId: string): Promise<number> {
    const families = await this.sessions
      .createQueryBuilder('s')
      .select('DISTINCT s.family_id', 'familyId')
      .where('s.user_id = :userId AND s.revoked_at IS NULL', { userId })
      .getRawMany<{ familyId: string }>();
    for (const { familyId } of families) {
      await this.revokeFamily(familyId);
    }
    return families.length;
  }

  /** See {@link revokedSessionsSince}. */
  revokedSince(since: number): Promise<RevocationFeedPage> {
    return revokedSessionsSince(this.sessions, this.config, since);
  }

  /** Revokes the family of `refreshToken` if it belongs to `userId`; false otherwise. */
  async revokeOwned(refreshToken: string, userId: string): Promise<boolean> {
    const session = await this.sessions.findOneBy({ tokenHash: hashRefreshToken(refreshToken) });
    if (!session || session.userId !== userId || session.revokedAt) {
      return false;
    }
    await this.revokeFamily(session.familyId);
    return true;
  }

  private async revokeFamily(familyId: string): Promise<void> {
    const now = new Date();
    await this.sessions.update({ familyId, revokedAt: IsNull() }, { revokedAt: now });
    this.revocations.add(
      familyId,
      now.getTime() + this.config.accessTokenTtlSeconds * 1000 + REVOCATION_SKEW_MS,
    );
  }

  private async lookup(tokenHash: string): Promise<LookupRow | undefined> {
    const postgres = this.sessions.manager.connection.options.type === 'postgres';
    const rows: LookupRow[] = await this.sessions.query(`${LOOKUP_SQL}${postgres ? '$1' : '?'}`, [
      tokenHash,
    ]);
    return rows[0];
  }

  private familyRevoked(familyId: string): Promise<boolean> {
    return this.sessions.existsBy({ familyId, revokedAt: Not(IsNull()) });
  }

  private async issue(userId: string, familyId: string): Promise<string> {
    const token = newRefreshToken();
    await this.sessions.insert({
      id: randomUUID(),
      familyId,
      userId,
      tokenHash: hashRefreshToken(token),
      expiresAt: new Date(Date.now() + this.config.refreshTokenTtlMs),
      rotatedAt: null,
      revokedAt: null,
    });
    return token;
  }
}

/**
 * Sessions revoked at or after `since` (epoch ms), looking back at most one access-token
 * lifetime: older revocations cannot match a live access token. The feed of every process's
 * revocation list; one grouped query on `revoked_at` (indexed).
 */
export async function revokedSessionsSince(
  sessions: Repository<Session>,
  config: Pick<AuthConfig, 'accessTokenTtlSeconds'>,
  since: number,
): Promise<RevocationFeedPage> {
  const now = Date.now();
  const lifetimeMs = config.accessTokenTtlSeconds * 1000 + REVOCATION_SKEW_MS;
  const from = new Date(Math.max(since, now - lifetimeMs));
  const rows = await sessions
    .createQueryBuilder('s')
    .select('s.family_id', 'sid')
    .addSelect('MAX(s.revoked_at)', 'revokedAt')
    .where('s.revoked_at >= :from', { from })
    .groupBy('s.family_id')
    .getRawMany<{ sid: string; revokedAt: Date | string }>();
  return {
    now,
    revoked: rows.map((row) => ({
      sid: row.sid,
      expiresAt: toEpochMs(row.revokedAt) + lifetimeMs,
    })),
  };
}

/**
 * A raw timestamp column as epoch ms: a Date from PostgreSQL, TypeORM's UTC text
 * (`YYYY-MM-DD HH:MM:SS.SSS`) from SQLite.
 */
function toEpochMs(value: Date | string): number {
  return value instanceof Date ? value.getTime() : Date.parse(`${value.replace(' ', 'T')}Z`);
}
