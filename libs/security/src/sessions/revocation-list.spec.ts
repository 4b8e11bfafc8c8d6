import { type RevocationFeedPage, RevocationList } from './revocation-list';

describe(RevocationList.name, () => {
  it('refuses a session from the feed until its entry expires, and asks from the last answer', async () => {
    const asked: number[] = [];
    let page: RevocationFeedPage = { now: 100_000, revoked: [] };
    const list = new RevocationList(async (since) => {
      asked.push(since);
      return page;
    }, 60_000);
    await list.onModuleInit();
    expect(list.isRevoked('s1')).toBe(false);
    page = { now: 200_000, revoked: [{ sid: 's1', expiresAt: Date.now() + 50 }] };
    await list.refresh();
    expect(list.isRevoked('s1')).toBe(true);
    expect(asked).toEqual([0, 95_000]);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(list.isRevoked('s1')).toBe(false);
    list.onApplicationShutdown();
  });

  it('keeps what it knows when the feed fails', async () => {
    let fail = false;
    const list = new RevocationList(async () => {
      if (fail) {
        throw new Error('down');
      }
      return { now: Date.now(), revoked: [{ sid: 's2', expiresAt: Date.now() + 60_000 }] };
    }, 60_000);
    await list.onModuleInit();
    fail = true;
    await list.refresh();
    expect(list.isRevoked('s2')).toBe(true);
    list.onApplicationShutdown();
  });

  it('takes revocations made in-process at once', () => {
    const list = new RevocationList(undefined);
    list.add('s3', Date.now() + 1_000);
    expect(list.isRevoked('s3')).toBe(true);
  });
});
