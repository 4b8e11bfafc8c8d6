#!/usr/bin/env node
// `npm run admin -- <command> <email>`: the operator's commands on auth-service's database
// (PostgreSQL through DATABASE_URL, else the SQLite file <KEEL_DATA_DIR>/auth-service.sqlite).
// Roles are never granted by registering; this is the one way to grant or take `admin`.
// Every change writes one JSON audit line on stdout (`"audit": true`).
//
//   grant <email>            give the user the admin role
//   revoke <email>           take the admin role away and end the user's sessions, so access
//                            tokens still carrying the role stop working within a second
//   revoke-sessions <email>  end every session of the user (refresh and access tokens)
const { userInfo } = require('node:os');
const { existsSync } = require('node:fs');
const { join, resolve } = require('node:path');

const COMMANDS = ['grant', 'revoke', 'revoke-sessions'];
const ROLE = 'admin';

function usage(message) {
  process.stderr.write(
    `${message}\nusage: npm run admin -- <${COMMANDS.join('|')}> <email>\n` +
      'database: DATABASE_URL (postgres://…) or the SQLite file in KEEL_DATA_DIR (default ./data)\n',
  );
  process.exit(2);
}

/** TypeORM's SQLite form of a timestamp (UTC `YYYY-MM-DD HH:MM:SS.SSS`), so the app can compare it. */
function sqliteTime(date) {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}

/** Runs `sql` with `?` placeholders on either driver; returns `{rows, changes}`. */
async function openDatabase() {
  const url = process.env.DATABASE_URL && process.env.DATABASE_URL.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      usage('DATABASE_URL must be a postgres:// URL');
    }
    const { Client } = require('pg');
    const client = new Client({ connectionString: url });
    await client.connect();
    return {
      kind: 'postgres',
      time: (date) => date,
      async run(sql, params) {
        let n = 0;
        const result = await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        );
        return { rows: result.rows, changes: result.rowCount ?? 0 };
      },
      close: () => client.end(),
    };
  }
  const file = join(resolve(process.env.KEEL_DATA_DIR || './data'), 'auth-service.sqlite');
  if (!existsSync(file)) {
    usage(`no auth-service database at ${file} (start auth-service once, or set KEEL_DATA_DIR)`);
  }
  const Database = require('better-sqlite3');
  const db = new Database(file);
  db.pragma('busy_timeout = 5000');
  return {
    kind: 'sqlite',
    time: sqliteTime,
    async run(sql, params) {
      const statement = db.prepare(sql);
      if (statement.reader) {
        return { rows: statement.all(params), changes: 0 };
      }
      return { rows: [], changes: statement.run(params).changes };
    },
    close: async () => db.close(),
  };
}

function audit(fields) {
  process.stdout.write(
    `${JSON.stringify({
      level: 'info',
      time: new Date().toISOString(),
      service: 'keel-admin',
      audit: true,
      actor: process.env.KEEL_ADMIN_ACTOR || userInfo().username,
      ...fields,
    })}\n`,
  );
}

async function revokeSessions(db, userId, now) {
  const { changes } = await db.run(
    'UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL',
    [db.time(now), userId],
  );
  return changes;
}

async function main() {
  const [command, rawEmail, ...rest] = process.argv.slice(2);
  if (!COMMANDS.includes(command) || !rawEmail || rest.length > 0) {
    usage(command ? `unknown or incomplete command: ${[command, rawEmail, ...rest].join(' ')}` : 'no command');
  }
  const email = rawEmail.trim().toLowerCase();
  const db = await openDatabase();
  try {
    const [user] = (await db.run('SELECT id, roles FROM credentials WHERE email = ?', [email])).rows;
    if (!user) {
      audit({ msg: `admin ${command}: no such user`, action: command, email, result: 'unknown_user' });
      process.exitCode = 1;
      return;
    }
    const now = new Date();
    const roles = new Set(String(user.roles).split(',').filter((role) => role.length > 0));
    if (command === 'grant' || command === 'revoke') {
      const had = roles.has(ROLE);
      if (command === 'grant') {
        roles.add(ROLE);
      } else {
        roles.delete(ROLE);
      }
      const changed = had !== roles.has(ROLE);
      if (changed) {
        await db.run('UPDATE credentials SET roles = ?, updated_at = ? WHERE id = ?', [
          [...roles].sort().join(','),
          db.time(now),
          user.id,
        ]);
      }
      const refreshTokensRevoked = command === 'revoke' && changed ? await revokeSessions(db, user.id, now) : 0;
      audit({
        msg: `admin ${command} ${ROLE}: ${changed ? 'changed' : 'unchanged'}`,
        action: command,
        role: ROLE,
        email,
        userId: user.id,
        result: changed ? 'changed' : 'unchanged',
        roles: [...roles].sort(),
        refreshTokensRevoked,
      });
      return;
    }
    const refreshTokensRevoked = await revokeSessions(db, user.id, now);
    audit({
      msg: 'admin revoke-sessions',
      action: command,
      email,
      userId: user.id,
      result: 'changed',
      refreshTokensRevoked,
    });
  } finally {
    await db.close();
  }
}

main().catch((error) => {
  process.stderr.write(`admin: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
