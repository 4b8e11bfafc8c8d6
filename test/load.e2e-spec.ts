import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Platform, startPlatform } from './support/platform';

jest.setTimeout(90_000);

interface LoadSummary {
  started: number;
  dropped: number;
  statuses: Record<string, number>;
  operations: Record<string, { count: number; statuses: Record<string, number> }>;
}

describe('npm run load (scripts/load.js)', () => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startPlatform({
      env: { CHAOS_ENABLED: 'true' },
      // The script's made-up client addresses count as clients only through a trusted proxy.
      appEnv: { 'api-gateway': { TRUST_PROXY: 'loopback' } },
    });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('drives every operation of the mix at the chosen rate, with failed logins and chaos errors', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(__dirname, '..', 'scripts', 'load.js'),
        ...['--url', platform.gatewayUrl, '--rate', '25', '--duration', '4'],
        ...['--users', '4', '--failed-logins', '0.1', '--chaos', '0.2', '--json'],
      ],
      { timeout: 60_000 },
    );
    const summary = JSON.parse(stdout) as LoadSummary;
    expect(summary.started).toBeGreaterThanOrEqual(90);
    expect(summary.dropped).toBe(0);
    expect(Object.keys(summary.operations).sort()).toEqual([
      'GET /auth/me',
      'GET /users/:id',
      'GET /users/me',
      'PATCH /users/me',
      'POST /auth/login',
      'POST /auth/login (wrong password)',
      'POST /auth/refresh',
      'POST /auth/register',
    ]);
    expect(summary.operations['POST /auth/login (wrong password)'].statuses).toEqual({
      '401': summary.operations['POST /auth/login (wrong password)'].count,
    });
    // 200/201 for the mix, 500 from `x-chaos: <app>=error`, no connection errors.
    expect(summary.statuses).toMatchObject({
      '200': expect.any(Number),
      '201': expect.any(Number),
      '500': expect.any(Number),
    });
    expect(summary.statuses.error).toBeUndefined();
  });
});
