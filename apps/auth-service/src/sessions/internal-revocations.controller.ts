import { Controller, Get, Query, UseGuards } from '@nestjs/common';
import { REVOCATION_FEED_PATH } from '@keel/platform';
import {
  InternalTokenGuard,
  Public,
  type RevocationFeedPage,
  SkipThrottle,
} from '@keel/security';
import { SessionStore } from './session-store.service';

/**
 * The revocation feed (`GET /internal/revocations?since=<epoch ms>`): sessions revoked since
 * then, for the gateway and users-service, which poll it with the internal token and refuse
 * access tokens of those sessions.
 */
@Public()
@SkipThrottle()
@UseGuards(InternalTokenGuard)
@Controller(REVOCATION_FEED_PATH)
export class InternalRevocationsController {
  constructor(private readonly sessions: SessionStore) {}

  @Get()
  revocations(@Query('since') since?: string): Promise<RevocationFeedPage> {
    const from = Number(since);
    return this.sessions.revokedSince(Number.isFinite(from) && from > 0 ? from : 0);
  }
}
