import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import request from 'supertest';
import { registerAndLogin, type TestUser, uniqueEmail } from './http';
import { type Platform } from './platform';

export interface AdminResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The JSON audit lines the command wrote. */
  audit: Record<string, unknown>[];
}

/**
 * Runs the operator's command (`npm run admin -- …`, i.e. `node scripts/admin.js …`) against a
 * platform's database: `DATABASE_URL` for PostgreSQL, else the SQLite file in `KEEL_DATA_DIR`.
 */
export function runAdmin(
  args: string[],
  database: { dataDir: string; databaseUrl?: string },
): AdminResult {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, KEEL_DATA_DIR: database.dataDir };
  if (database.databaseUrl) {
    env.DATABASE_URL = database.databaseUrl;
  }
  const result = spawnSync(
    process.execPath,
    [join(__dirname, '..', '..', 'scripts', 'admin.js'), ...args],
    {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    },
  );
  const audit = result.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr, audit };
}

/**
 * Registers a user through the gateway, grants it `admin` with the operator's command, and
 * logs it in again so its access token carries the role.
 */
export async function registerAdmin(
  platform: Platform,
  email = uniqueEmail('admin'),
  displayName = 'Admin',
): Promise<TestUser> {
  const user = await registerAndLogin(platform.gatewayUrl, email, displayName);
  const granted = runAdmin(['grant', email], platform);
  if (granted.code !== 0) {
    throw new Error(`admin grant failed (${granted.code}): ${granted.stderr}${granted.stdout}`);
  }
  const login = await request(platform.gatewayUrl)
    .post('/api/v1/auth/login')
    .send({ email, password: user.password })
    .expect(200);
  return { ...user, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken };
}
