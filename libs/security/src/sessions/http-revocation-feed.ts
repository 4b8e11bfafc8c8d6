import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { INTERNAL_TOKEN_HEADER } from '@keel/platform';
import { type RevocationFeed, type RevocationFeedPage } from './revocation-list';

/** Path of auth-service's revocation feed (internal token required). */
export const REVOCATION_FEED_PATH = '/internal/revocations';

/**
 * auth-service's revocation feed over HTTP, for the apps that do not own the sessions table.
 * Polls are housekeeping, so they make no spans.
 */
export function httpRevocationFeed(authServiceUrl: string, internalToken: string): RevocationFeed {
  const base = authServiceUrl.replace(/\/+$/, '');
  return (since) =>
    context.with(suppressTracing(context.active()), async () => {
      const res = await fetch(`${base}${REVOCATION_FEED_PATH}?since=${since}`, {
        headers: { [INTERNAL_TOKEN_HEADER]: internalToken },
        signal: AbortSignal.timeout(2_000),
      });
      if (res.status !== 200) {
        throw new Error(`revocation feed answered ${res.status}`);
      }
      const page = (await res.json()) as RevocationFeedPage;
      if (typeof page.now !== 'number' || !Array.isArray(page.revoked)) {
        throw new Error('revocation feed answered an unexpected body');
      }
      return page;
    });
}
