import { randomBytes } from 'node:crypto';

/**
 * Test identities (client addresses, e-mail addresses, Redis key prefixes) from a namespace
 * that cannot collide: within a test file a counter makes each one new, and the process id
 * separates the files running at the same time (jest workers, concurrent runs on one
 * machine). Files that run one after another in the same worker may repeat an address, but
 * never share the state it counts against: each file starts its own apps, and their Redis
 * keys carry {@link redisKeyPrefix}, which adds a random part per file.
 */

/** Random per test file (jest gives every file a fresh module registry), 8 hex digits. */
export const RUN_ID = randomBytes(4).toString('hex');

let counter = 0;
const next = (): number => (counter += 1);

/** 22 bits each are enough for any Linux pid (pid_max ≤ 2^22) and any suite. */
const PID_BITS = 22;
const COUNTER_BITS = 22;

/**
 * A client IP address nobody else uses: `3fff:0ppp:pppc:cccc::1` in the IPv6 documentation
 * prefix 3fff::/20 (RFC 9637), made of this process's id and a counter. The gateway reduces an
 * IPv6 client to its /64 (one customer's block), so every address here has a /64 of its own,
 * which is why the much smaller 2001:db8::/32 does not give enough room. Send it as
 * `X-Forwarded-For` to an app that trusts the test process as a proxy (`TRUST_PROXY`).
 */
export function fakeIp(): string {
  const n = next();
  if (n >= 2 ** COUNTER_BITS) {
    throw new Error('fakeIp: address space of this process used up');
  }
  const value = (BigInt(process.pid % 2 ** PID_BITS) << BigInt(COUNTER_BITS)) | BigInt(n);
  const hex = value.toString(16).padStart(11, '0');
  return `3fff:0${hex.slice(0, 3)}:${hex.slice(3, 7)}:${hex.slice(7, 11)}::1`;
}

/** A valid e-mail address no other call returns: `<prefix>-<run>-<pid>-<n>@example.com`. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${RUN_ID}-${process.pid.toString(36)}-${next()}@example.com`;
}

/**
 * A Redis key prefix of this test file's own (`keel:test-<run>-<pid>:`), for `REDIS_KEY_PREFIX`:
 * apps of one file (replicas included) share counts, apps of other files and runs never do,
 * even on one Redis server.
 */
export function redisKeyPrefix(): string {
  return `keel:test-${RUN_ID}-${process.pid.toString(36)}:`;
}
