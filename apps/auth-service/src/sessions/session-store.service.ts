import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG, rawSqlDialect, type RawSqlDialect, storedTimestamp } from '@keel/platform';
import { RevocationList, type RevocationFeedPage } from '@keel/security';
import { IsNull, type Repository } from 'typeorm';
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
 * trip: how rotation tells an invalid, expired or reused token apart once its claim failed.
 */
const LOOKUP_SQL = `SELECT s.family_id, s.user_id, s.rotated_at, s.revoked_at,
  EXISTS (SELECT 1 FROM sessions f WHERE f.family_id = s.family_id AND f.revoked_at IS NOT NULL)
    AS family_revoked
  FROM sessions s WHERE s.token_hash = ?`;

/** The families revoked since a time, each with its latest revocation. */
const REVOKED_SINCE_SQL = `SELECT family_id AS sid, MAX(revoked_at) AS "revokedAt"
  FROM sessions WHERE revoked_at >= ? GROUP BY family_id`;
/** {@link REVOKED_SINCE_SQL} per driver dialect, translated once. */
const revokedSinceStatements = new Map<RawSqlDialect, string>();

/**
 * Rotation's claim: marks the token rotated only if it is unrotated, unrevoked, unexpired and
 * its family is not revoked, and names its session, in one round trip. A row lock makes it the
 * point where two concurrent rotations of one token are told apart: PostgreSQL re-checks the
 * loser's WHERE against the winner's committed row (`rotated_at` set) and updates nothing;
 * SQLite runs one writer at a time. Parameters: now, token hash, now.
 */
const CLAIM_SQL = `UPDATE sessions SET rotated_at = ?
  WHERE token_hash = ? AND rotated_at IS NULL AND revoked_at IS NULL AND expires_at > ?
    AND NOT EXISTS (SELECT 1 FROM sessions f
      WHERE f.family_id = sessions.family_id AND f.revoked_at IS NOT NULL)
  RETURNING family_id, user_id`;

/**
 * A new session row with what TypeORM's insert would write: `rotated_at` and `revoked_at`
 * NULL, `created_at` the column default (TypeORM writes `DEFAULT` / `datetime('now')`, the
 * same value). Parameters: id, family id, user id, token hash, expires at.
 */
const INSERT_SQL = `INSERT INTO sessions (id, family_id, user_id, token_hash, expires_at)
  VALUES (?, ?, ?, ?, ?)`;

/**
 * After rotation's insert, in one round trip: whether the family got revoked meanwhile (a
 * concurrent reuse's UPDATE could not see the uncommitted new row, so it would live on), and
 * the holder's credential fields that the new access token carries. No row: the credential is
 * gone (its sessions, the new one included, went with it: ON DELETE CASCADE). Parameters:
 * family id, user id.
 */
const CONFIRM_SQL = `SELECT c.email, c.roles,
  EXISTS (SELECT 1 FROM sessions f WHERE f.family_id = ? AND f.revoked_at IS NOT NULL)
    AS family_revoked
  FROM credentials c WHERE c.id = ?`;

interface ClaimRow {
  family_id: string;
  user_id: string;
}

interface ConfirmRow {
  email: string;
  roles: string;
  family_revoked: boolean | number;
}

interface LookupRow {
  family_id: string;
  user_id: string;
  rotated_at: Date | string | null;
  revoked_at: Date | string | null;
  family_revoked: boolean | number;
}

/** What an access token says of its holder; rotation reads it with its last round trip. */
export interface SessionHolder {
  id: string;
  email: string;
  /** Comma-separated role names, as stored. */
  roles: string;
}

export type RotationResult =
  | {
      outcome: 'rotated';
      userId: string;
      sessionId: string;
      refreshToken: string;
      holder: SessionHolder;
    }
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
  private readonly dialect: RawSqlDialect;
  private readonly sql: Record<'lookup' | 'claim' | 'insert' | 'confirm', string>;

  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly revocations: RevocationList,
  ) {
    this.dialect = rawSqlDialect(sessions.manager.connection);
    this.sql = {
      lookup: this.dialect.statement(LOOKUP_SQL),
      claim: this.dialect.statement(CLAIM_SQL),
      insert: this.dialect.statement(INSERT_SQL),
      confirm: this.dialect.statement(CONFIRM_SQL),
    };
  }

  /** Starts a new session family and returns its first refresh token. */
  async start(userId: string): Promise<IssuedSession> {
    const sessionId = randomUUID();
    return { sessionId, refreshToken: await this.issue(userId, sessionId) };
  }

  /**
   * Exchanges a refresh token for a new one. A token that was already rotated is a reuse:
   * the whole family is revoked, so a thief and the victim both lose the session.
   *
   * Three round trips when it succeeds (claim, insert, confirm): the refresh path's hot
   * writes, in raw SQL rather than TypeORM's query builder.
   */
  async rotate(refreshToken: string): Promise<RotationResult> {
    const tokenHash = hashRefreshToken(refreshToken);
    const now = this.dialect.timestamp(new Date());
    const claimed = this.dialect.returned<ClaimRow>(
      await this.sessions.query(this.sql.claim, [now, tokenHash, now]),
    )[0];
    if (!claimed) {
      return this.refuse(tokenHash);
    }
    const familyId = claimed.family_id;
    const userId = claimed.user_id;
    const next = await this.issue(userId, familyId);
    const rows: ConfirmRow[] = await this.sessions.query(this.sql.confirm, [familyId, userId]);
    const confirmed = rows[0];
    if (confirmed && Boolean(confirmed.family_revoked)) {
      // A concurrent reuse revoked the family between the claim and the insert, with an
      // UPDATE that could not see the new row: the new token dies with its family.
      await this.revokeFamily(familyId);
      return { outcome: 'invalid' };
    }
    if (!confirmed) {
      return { outcome: 'invalid' };
    }
    return {
      outcome: 'rotated',
      userId,
      sessionId: familyId,
      refreshToken: next,
      holder: { id: userId, email: confirmed.email, roles: confirmed.roles },
    };
  }

  /**
   * Why a token's claim failed, from its row: unknown, revoked or of a revoked family, or
   * expired, is invalid; already rotated (by an earlier call, or by a concurrent one that won
   * the claim) is a reuse, and revokes the family.
   */
  private async refuse(tokenHash: string): Promise<RotationResult> {
    const rows: LookupRow[] = await this.sessions.query(this.sql.lookup, [tokenHash]);
    const session = rows[0];
    if (!session || session.revoked_at !== null || Boolean(session.family_revoked)) {
      return { outcome: 'invalid' };
    }
    if (session.rotated_at !== null) {
      await this.revokeFamily(session.family_id);
      return { outcome: 'reuse', userId: session.user_id };
    }
    // Expired. (An unrotated, unexpired row of a live family would have been claimed: none of
    // the claim's conditions can become true again once false, so nothing else lands here.)
    return { outcome: 'invalid' };
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

  private async issue(userId: string, familyId: string): Promise<string> {
    const token = newRefreshToken();
    const expiresAt = new Date(Date.now() + this.config.refreshTokenTtlMs);
    await this.sessions.query(this.sql.insert, [
      randomUUID(),
      familyId,
      userId,
      hashRefreshToken(token),
      this.dialect.timestamp(expiresAt),
    ]);
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
  // Polled by every replica several times a second: raw SQL, no query builder per poll.
  const dialect = rawSqlDialect(sessions.manager.connection);
  let statement = revokedSinceStatements.get(dialect);
  if (statement === undefined) {
    statement = dialect.statement(REVOKED_SINCE_SQL);
    revokedSinceStatements.set(dialect, statement);
  }
  const rows = (await sessions.query(statement, [
    dialect.timestamp(from),
  ])) as Array<{ sid: string; revokedAt: Date | string }>;
  return {
    now,
    revoked: rows.map((row) => ({
      sid: row.sid,
      expiresAt: storedTimestamp(row.revokedAt).getTime() + lifetimeMs,
    })),
  };
}
