import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { getRepositoryToken, TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG } from '@keel/platform';
import { AccessTokenVerifier, JwtAuthGuard, RevocationList } from '@keel/security';
import { type Repository } from 'typeorm';
import { type AuthConfig } from '../config/auth-config';
import { Credential } from '../credentials/credential.entity';
import { JwksController } from '../keys/jwks.controller';
import { SigningKeyService } from '../keys/signing-key.service';
import { Session } from '../sessions/session.entity';
import { InternalRevocationsController } from '../sessions/internal-revocations.controller';
import { revokedSessionsSince, SessionStore } from '../sessions/session-store.service';
import { UsersClient } from '../users-client/users.client';
import { AuthController } from './auth.controller';
import { AuthMetrics } from './auth.metrics';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher.service';
import { TokenIssuer } from './token-issuer.service';

@Module({
  imports: [TypeOrmModule.forFeature([Credential, Session])],
  controllers: [AuthController, JwksController, InternalRevocationsController],
  providers: [
    AuthMetrics,
    AuthService,
    PasswordHasher,
    SessionStore,
    SigningKeyService,
    TokenIssuer,
    UsersClient,
    {
      // Revocations made here count at once; those of other replicas and of the operator's
      // command come from the shared sessions table, polled like the other apps poll the feed.
      provide: RevocationList,
      inject: [getRepositoryToken(Session), APP_CONFIG],
      useFactory: (sessions: Repository<Session>, config: AuthConfig) =>
        new RevocationList((since) => revokedSessionsSince(sessions, config, since)),
    },
    {
      // auth-service checks its own tokens with the key it holds, not over HTTP.
      provide: AccessTokenVerifier,
      inject: [SigningKeyService, RevocationList],
      useFactory: (keys: SigningKeyService, revocations: RevocationList) =>
        new AccessTokenVerifier({ getKey: () => keys.verificationKey() }, { revocations }),
    },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
})
export class AuthModule {}
