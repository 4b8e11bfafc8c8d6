import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessTokenVerifier, JwtAuthGuard } from '@keel/security';
import { Credential } from '../credentials/credential.entity';
import { JwksController } from '../keys/jwks.controller';
import { SigningKeyService } from '../keys/signing-key.service';
import { Session } from '../sessions/session.entity';
import { SessionStore } from '../sessions/session-store.service';
import { UsersClient } from '../users-client/users.client';
import { AuthController } from './auth.controller';
import { AuthMetrics } from './auth.metrics';
import { AuthService } from './auth.service';
import { PasswordHasher } from './password-hasher.service';
import { TokenIssuer } from './token-issuer.service';

@Module({
  imports: [TypeOrmModule.forFeature([Credential, Session])],
  controllers: [AuthController, JwksController],
  providers: [
    AuthMetrics,
    AuthService,
    PasswordHasher,
    SessionStore,
    SigningKeyService,
    TokenIssuer,
    UsersClient,
    {
      // auth-service checks its own tokens with the key it holds, not over HTTP.
      provide: AccessTokenVerifier,
      inject: [SigningKeyService],
      useFactory: (keys: SigningKeyService) =>
        new AccessTokenVerifier({ getKey: () => keys.verificationKey() }),
    },
    { provide: APP_GUARD, useClass: JwtAuthGuard },
  ],
})
export class AuthModule {}
