import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { APP_CONFIG } from '@keel/platform';
import { IsNull, type Repository } from 'typeorm';
import { hashRefreshToken, newRefreshToken } from '../auth/refresh-token';
import { type AuthConfig } from '../config/auth-config';
import { Session } from './session.entity';

export type RotationResult =
  | { outcome: 'rotated'; userId: string; refreshToken: string }
  | { outcome: 'reuse'; userId: string }
  | { outcome: 'invalid' };

/** Refresh-token sessions: issue, rotate with reuse detection, revoke. */
@Injectable()
export class SessionStore {
  constructor(
    @InjectRepository(Session) private readonly sessions: Repository<Session>,
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** Starts a new session family and returns its first refresh token. */
  async start(userId: string): Promise<string> {
    return this.issue(userId, randomUUID());
  }

  /**
   * Exchanges a refresh token for a new one. A token that was already rotated is a reuse:
   * the whole family is revoked, so a thief and the victim both lose the session.
   */
  async rotate(refreshToken: string): Promise<RotationResult> {
    const session = await this.sessions.findOneBy({ tokenHash: hashRefreshToken(refreshToken) });
    if (!session || session.revokedAt) {
      return { outcome: 'invalid' };
    }
    if (session.rotatedAt) {
      await this.revokeFamily(session.familyId);
      return { outcome: 'reuse', userId: session.userId };
    }
    if (session.expiresAt.getTime() <= Date.now()) {
      return { outcome: 'invalid' };
    }
    // Conditional update: of two concurrent rotations of one token only one wins; the
    // loser is treated as a reuse.
    const claimed = await this.sessions.update(
      { id: session.id, rotatedAt: IsNull(), revokedAt: IsNull() },
      { rotatedAt: new Date() },
    );
    if (claimed.affected !== 1) {
      await this.revokeFamily(session.familyId);
      return { outcome: 'reuse', userId: session.userId };
    }
    const next = await this.issue(session.userId, session.familyId);
    return { outcome: 'rotated', userId: session.userId, refreshToken: next };
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
    await this.sessions.update({ familyId, revokedAt: IsNull() }, { revokedAt: new Date() });
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
