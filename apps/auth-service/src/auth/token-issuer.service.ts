import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { Traced } from '@keel/observability';
import { APP_CONFIG } from '@keel/platform';
import { ACCESS_TOKEN_AUDIENCE, ACCESS_TOKEN_ISSUER } from '@keel/security';
import { SignJWT } from 'jose';
import { type AuthConfig } from '../config/auth-config';
import { SIGNING_ALGORITHM, SigningKeyService } from '../keys/signing-key.service';

export interface AccessTokenSubject {
  id: string;
  email: string;
  roles: string[];
  /** The session (refresh-token family): the `sid` claim, which revocation refers to. */
  sessionId: string;
}

/** Signs access tokens (ES256, with `kid`). */
@Injectable()
export class TokenIssuer {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AuthConfig,
    private readonly keys: SigningKeyService,
  ) {}

  get accessTokenTtlSeconds(): number {
    return this.config.accessTokenTtlSeconds;
  }

  @Traced()
  async signAccessToken(subject: AccessTokenSubject): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email: subject.email, roles: subject.roles, sid: subject.sessionId })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: this.keys.kid, typ: 'JWT' })
      .setSubject(subject.id)
      .setIssuer(ACCESS_TOKEN_ISSUER)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + this.config.accessTokenTtlSeconds)
      .setJti(randomUUID())
      .sign(this.keys.signingKey);
  }
}
