import { context } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { INTERNAL_TOKEN_HEADER } from '@keel/platform';
import { type RevocationFeed, type RevocationFeedPage } from './revocation-list';

/**
 * A revocation feed over HTTP (`GET <feedUrl>?since=<epoch ms>`, internal token required), for
 * the apps that do not own the sessions table; the app says where it is. Polls are
 * housekeeping, so they make no spans.
 */
export function httpRevocationFeed(feedUrl: string, internalToken: string): RevocationFeed {
  return (since) =>
    context.with(suppressTracing(context.active()), async () => {
      const res = await fetch(`${feedUrl}?since=${since}`, {
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
