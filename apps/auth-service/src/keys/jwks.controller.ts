import { Controller, Get, Header } from '@nestjs/common';
import { Public } from '@keel/security';
import { type JWK } from 'jose';
import { SigningKeyService } from './signing-key.service';

@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeyService) {}

  @Public()
  @Get('jwks.json')
  @Header('cache-control', 'public, max-age=300')
  jwks(): { keys: JWK[] } {
    return this.keys.jwks();
  }
}
