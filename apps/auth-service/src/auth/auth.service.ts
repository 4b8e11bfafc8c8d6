import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  isUniqueViolation,
  normalizeEmail,
  rawSqlDialect,
  UpstreamUnavailableError,
} from '@keel/platform';
import { type Repository } from 'typeorm';
import { Credential } from '../credentials/credential.entity';
import {
  type IssuedSession,
  type SessionHolder,
  SessionStore,
} from '../sessions/session-store.service';
import { UsersClient } from '../users-client/users.client';
import { AuthErrors } from './auth.errors';
import { AuthMetrics } from './auth.metrics';
import { type LoginDto } from './dto/login.dto';
import { type RegisterDto } from './dto/register.dto';
import { type TokenPairDto } from './dto/token-pair.dto';
import { PasswordHasher } from './password-hasher.service';
import { TokenIssuer } from './token-issuer.service';

export interface RegisteredUser {
  id: string;
  email: string;
  displayName: string;
  createdAt: string;
}

/**
 * The hot credential reads (login by email, `auth/me` by id): raw SQL of only the columns
 * used, one round trip each, not `findOneBy`, whose query builder, aliases and entity
 * hydration cost more CPU than the primary-key or unique-index lookup itself.
 */
const BY_EMAIL_SQL = 'SELECT id, email, roles, password_hash FROM credentials WHERE email = ?';
const BY_ID_SQL = 'SELECT id, email, roles FROM credentials WHERE id = ?';

interface ByEmailRow {
  id: string;
  email: string;
  roles: string;
  password_hash: string;
}

/** Registration, login, refresh-token rotation and logout. */
@Injectable()
export class AuthService {
  private readonly logger = new Logger(AuthService.name);
  private readonly sql: Record<'byEmail' | 'byId', string>;

  constructor(
    @InjectRepository(Credential) private readonly credentials: Repository<Credential>,
    private readonly hasher: PasswordHasher,
    private readonly tokens: TokenIssuer,
    private readonly sessions: SessionStore,
    private readonly users: UsersClient,
    private readonly metrics: AuthMetrics,
  ) {
    const dialect = rawSqlDialect(credentials.manager.connection);
    this.sql = { byEmail: dialect.statement(BY_EMAIL_SQL), byId: dialect.statement(BY_ID_SQL) };
  }

  /**
   * Creates the credentials, then the profile in users-service. If the profile cannot be
   * made the credentials are removed again, so the email stays free for a later attempt.
   */
  async register(dto: RegisterDto): Promise<RegisteredUser> {
    const email = normalizeEmail(dto.email);
    if (await this.credentials.existsBy({ email })) {
      throw AuthErrors.emailTaken();
    }
    const passwordHash = await this.hasher.hash(dto.password);
    const id = randomUUID();
    // Registering never grants a role beyond `user`: operators grant `admin` with
    // `npm run admin -- grant <email>`.
    const roles = 'user';
    // Set here, to the millisecond, so both drivers store the instant the client is told (a
    // database default would round to whole seconds on SQLite).
    const createdAt = new Date();
    try {
      await this.credentials.insert({
        id,
        email,
        passwordHash,
        roles,
        createdAt,
        updatedAt: createdAt,
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw AuthErrors.emailTaken();
      }
      throw error;
    }
    let created = false;
    try {
      created = await this.users.createProfile({ id, email, displayName: dto.displayName });
    } catch (error) {
      if (!(error instanceof UpstreamUnavailableError)) {
        await this.credentials.delete({ id });
        throw error;
      }
      this.logger.warn(
        { userId: id, reason: error.reason },
        'users-service unavailable during registration',
      );
    }
    if (!created) {
      await this.credentials.delete({ id });
      if (!(await this.users.removeProfile(id))) {
        this.logger.warn({ userId: id }, 'could not remove a possibly orphaned profile');
      }
      throw AuthErrors.profileServiceUnavailable();
    }
    return { id, email, displayName: dto.displayName, createdAt: createdAt.toISOString() };
  }

  /** One answer for an unknown email and a wrong password, in about the same time. */
  async login(dto: LoginDto): Promise<TokenPairDto> {
    const rows: ByEmailRow[] = await this.credentials.query(this.sql.byEmail, [
      normalizeEmail(dto.email),
    ]);
    const credential = rows[0];
    const valid = credential
      ? await this.hasher.verify(credential.password_hash, dto.password)
      : await this.hasher.verifyDummy(dto.password);
    if (!credential || !valid) {
      this.metrics.loginAttempt('invalid_credentials');
      throw AuthErrors.invalidCredentials();
    }
    const pair = await this.issuePair(credential, await this.sessions.start(credential.id));
    this.metrics.loginAttempt('success');
    return pair;
  }

  async refresh(refreshToken: string): Promise<TokenPairDto> {
    const result = await this.sessions.rotate(refreshToken);
    if (result.outcome === 'reuse') {
      this.metrics.refreshReuse.inc();
      this.logger.warn({ userId: result.userId }, 'refresh token reuse detected; session revoked');
    }
    if (result.outcome !== 'rotated') {
      throw AuthErrors.invalidRefreshToken();
    }
    // The holder's credential came with the rotation's last round trip.
    return this.issuePair(result.holder, result);
  }

  async logout(userId: string, refreshToken: string): Promise<void> {
    if (!(await this.sessions.revokeOwned(refreshToken, userId))) {
      throw AuthErrors.invalidRefreshToken();
    }
  }

  async me(userId: string): Promise<{ id: string; email: string; roles: string[] }> {
    const rows: SessionHolder[] = await this.credentials.query(this.sql.byId, [userId]);
    const credential = rows[0];
    if (!credential) {
      throw AuthErrors.invalidCredentials();
    }
    return { id: credential.id, email: credential.email, roles: rolesOf(credential) };
  }

  private async issuePair(
    credential: SessionHolder,
    { sessionId, refreshToken }: IssuedSession,
  ): Promise<TokenPairDto> {
    const accessToken = await this.tokens.signAccessToken({
      id: credential.id,
      email: credential.email,
      roles: rolesOf(credential),
      sessionId,
    });
    this.metrics.tokensIssued.inc({ type: 'access' });
    this.metrics.tokensIssued.inc({ type: 'refresh' });
    return {
      accessToken,
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTokenTtlSeconds,
    };
  }
}

function rolesOf(credential: Pick<SessionHolder, 'roles'>): string[] {
  return credential.roles.split(',').filter((role) => role.length > 0);
}
