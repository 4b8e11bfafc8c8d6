import { isIPv6, connect, createServer } from 'node:net';
import { fakeIp, redisKeyPrefix, uniqueEmail } from './support/identity';
import { ephemeralRange, holdClosedPort, pickPort } from './support/ports';
import { waitFor } from './support/wait';

// The test harness's own promises (docs/testing.md): identities that cannot collide, ports
// without probe-and-release, waits that name what they waited for.

/** The first four groups of an IPv6 address: its /64, which the gateway counts as one client. */
function slash64(address: string): string {
  const [head, tail = ''] = address.split('::');
  const groups = head.split(':');
  const missing = 8 - groups.length - (tail ? tail.split(':').length : 0);
  return [...groups, ...Array<string>(missing).fill('0')].slice(0, 4).join(':');
}

describe('test identities', () => {
  it('gives every fakeIp() call a valid documentation address in a /64 of its own', () => {
    const addresses = Array.from({ length: 2000 }, () => fakeIp());
    expect(addresses.filter((address) => !isIPv6(address))).toEqual([]);
    // 3fff::/20: the first group is 3fff, the second below 0x1000.
    expect(addresses.filter((address) => !/^3fff:0[0-9a-f]{3}:/.test(address))).toEqual([]);
    expect(new Set(addresses.map(slash64)).size).toBe(addresses.length);
  });

  it('gives every uniqueEmail() call a new address and keeps one Redis prefix per file', () => {
    const emails = Array.from({ length: 500 }, () => uniqueEmail('x'));
    expect(new Set(emails).size).toBe(emails.length);
    expect(emails[0]).toMatch(/^x-[0-9a-f]{8}-[0-9a-z]+-\d+@example\.com$/);
    expect(redisKeyPrefix()).toBe(redisKeyPrefix());
    expect(redisKeyPrefix()).toMatch(/^keel:test-[0-9a-f]{8}-[0-9a-z]+:$/);
  });
});

describe('ports', () => {
  it('holds a port closed: connections are refused and nobody can listen on it', async () => {
    const closed = await holdClosedPort();
    try {
      const refused = await new Promise<string>((resolve) => {
        const socket = connect(closed.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? ''));
      });
      expect(refused).toBe('ECONNREFUSED');
      for (const host of ['127.0.0.1', '0.0.0.0']) {
        const server = createServer();
        const bind = await new Promise<string>((resolve) => {
          server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? ''));
          server.listen(closed.port, host, () => resolve('listening'));
        });
        server.close();
        expect({ host, bind }).toEqual({ host, bind: 'EADDRINUSE' });
      }
    } finally {
      await closed.release();
    }
  });

  it('picks ports below the ephemeral range, never the same twice in a process', () => {
    const [low] = ephemeralRange();
    const ports = Array.from({ length: 50 }, () => pickPort());
    expect(ports.filter((port) => port < 20_000 || port >= low)).toEqual([]);
    expect(new Set(ports).size).toBe(ports.length);
  });
});

describe(waitFor.name, () => {
  it('resolves with the first truthy value of the condition', async () => {
    let calls = 0;
    await expect(waitFor(() => (++calls >= 3 ? 'done' : undefined), { what: 'x' })).resolves.toBe(
      'done',
    );
    expect(calls).toBe(3);
  });

  it('fails after the deadline naming what it waited for and the last error', async () => {
    const started = Date.now();
    await expect(
      waitFor(
        () => {
          throw new Error('not yet');
        },
        { what: 'the moon to turn blue', timeout: 100 },
      ),
    ).rejects.toThrow(
      /^Timed out after 100 ms waiting for the moon to turn blue\nlast error: not yet/,
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);
  });
});
