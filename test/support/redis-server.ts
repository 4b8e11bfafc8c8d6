import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pickPort, saysAddressInUse } from './ports';
import { waitFor } from './wait';

/**
 * A private `redis-server` for one suite, on its own port and without persistence, so a test
 * can kill and restart it without touching the shared Redis on 6379. redis-server cannot
 * listen on port 0 over TCP, so the port is picked outside the ephemeral range and bound by
 * redis-server itself; when that bind fails, another port is picked (first start only: a
 * restart keeps the port, which clients know).
 *
 * ```ts
 * const redis = await startRedisServer();
 * // … REDIS_URL = redis.url …
 * await redis.kill();     // Redis "crashes"
 * await redis.start();    // same port, empty data
 * await redis.stop();
 * ```
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Whether the server process is running now. */
  running(): boolean;
  /** The server's process id while it runs (to SIGSTOP it), else `undefined`. */
  pid(): number | undefined;
  /** SIGKILLs the server (a crash, not a clean shutdown). */
  kill(): Promise<void>;
  /** Starts the server again on the same port. */
  start(): Promise<void>;
  /** Kills the server and removes its directory. */
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<PrivateRedis> {
  let port = pickPort();
  const dir = mkdtempSync(join(tmpdir(), 'keel-redis-'));
  let child: ChildProcess | undefined;

  /** Starts redis-server on `port`; resolves `false` when the port was taken. */
  const launch = async (): Promise<boolean> => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    let output = '';
    proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // `close`: the exit message is read in full before it is looked at.
    let closed = false;
    const exited = new Promise<void>((resolve) =>
      proc.once('close', () => {
        closed = true;
        resolve();
      }),
    );
    try {
      await waitFor(async () => closed || (await answersPing(port)), {
        what: `redis-server to answer PING on port ${port}`,
        timeout: 10_000,
        describe: () => output.slice(-1000),
      });
    } catch (error) {
      proc.kill('SIGKILL');
      await exited;
      throw error;
    }
    if (closed) {
      child = undefined;
      if (saysAddressInUse(output)) {
        return false;
      }
      throw new Error(`redis-server on port ${port} exited at start:\n${output.slice(-1000)}`);
    }
    return true;
  };

  const start = async (): Promise<void> => {
    if (!(await launch())) {
      throw new Error(`redis-server: port ${port} was taken while it was down`);
    }
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) {
      return;
    }
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  process.once('exit', () => child?.kill('SIGKILL'));
  for (let attempt = 1; !(await launch()); attempt += 1) {
    if (attempt === 5) {
      throw new Error('redis-server: five picked ports were all taken');
    }
    port = pickPort();
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    running: () => child !== undefined && child.exitCode === null && child.signalCode === null,
    pid: () =>
      child !== undefined && child.exitCode === null && child.signalCode === null
        ? child.pid
        : undefined,
    kill,
    start,
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.setTimeout(500);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}
