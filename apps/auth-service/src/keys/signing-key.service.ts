import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { APP_CONFIG } from '@keel/platform';
import { calculateJwkThumbprint, exportJWK, importPKCS8, type JWK, type KeyLike } from 'jose';
import { type AuthConfig } from '../config/auth-config';

export const SIGNING_ALGORITHM = 'ES256';

/**
 * The ES256 key pair that signs access tokens: from JWT_PRIVATE_KEY, or generated once
 * into KEEL_DATA_DIR for development. The `kid` is the public key's JWK thumbprint.
 */
@Injectable()
export class SigningKeyService implements OnModuleInit {
  private readonly logger = new Logger(SigningKeyService.name);
  private privateKey!: KeyLike;
  private publicJwk!: JWK;

  constructor(@Inject(APP_CONFIG) private readonly config: AuthConfig) {}

  async onModuleInit(): Promise<void> {
    const pem = this.config.jwtPrivateKeyPem ?? this.developmentKeyPem();
    this.privateKey = await importPKCS8(pem, SIGNING_ALGORITHM, { extractable: true });
    const { d: _private, ...publicJwk } = await exportJWK(this.privateKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    this.publicJwk = { ...publicJwk, kid, alg: SIGNING_ALGORITHM, use: 'sig' };
  }

  get kid(): string {
    return this.publicJwk.kid!;
  }

  get signingKey(): KeyLike {
    return this.privateKey;
  }

  /** The public key set served at `/.well-known/jwks.json`. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** A verification key for this service's own tokens (the public half of the pair). */
  async verificationKey(): Promise<KeyLike> {
    return this.privateKey;
  }

  private developmentKeyPem(): string {
    const file = join(this.config.dataDir, 'jwt-signing-key.pem');
    if (existsSync(file)) {
      return readFileSync(file, 'utf8');
    }
    mkdirSync(this.config.dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    this.logger.warn(
      `Generated a development signing key at ${file}; set JWT_PRIVATE_KEY in production`,
    );
    return pem;
  }
}
