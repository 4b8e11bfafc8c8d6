import { Controller, Get, Header } from '@nestjs/common';
import { JWKS_PATH, Public, SkipThrottle } from '@keel/security';
import { type JWK } from 'jose';
import { SigningKeyService } from './signing-key.service';

@Controller()
export class JwksController {
  constructor(private readonly keys: SigningKeyService) {}

  /** Outside every limit: one client spending the service limit must not lock the keys away. */
  @Public()
  @SkipThrottle()
  @Get(JWKS_PATH)
  @Header('cache-control', 'public, max-age=300')
  jwks(): { keys: JWK[] } {
    return this.keys.jwks();
  }
}
