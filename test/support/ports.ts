import { readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';

/**
 * Ports for test processes without probe-and-release races. Preferred: the process that
 * serves binds port 0 itself and reports the port (apps log `listening on …`, receivers read
 * `server.address()`). Where a port must be known before its process starts (two apps that
 * call each other, a redis-server, which cannot listen on 0 over TCP), {@link pickPort} gives
 * one *outside* the kernel's ephemeral range, so no `listen(0)` and no outgoing connection
 * anywhere on the machine can take it; the process binds it itself, and the caller picks
 * again when that bind fails (only another explicit binder can hold it).
 */

/** The kernel's ephemeral (automatic) port range, `[low, high]`. */
export function ephemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low > 0 && high >= low) {
      return [low, high];
    }
  } catch {
    // Not Linux: the IANA dynamic range, which macOS and Windows use.
  }
  return [49152, 65535];
}

const PICK_LOW = 20_000;
let picked = 0;

/**
 * A port below the ephemeral range (from 20 000 up, away from well-known services), starting
 * at a place derived from the process id and never the same twice in a process. Not probed: bind it
 * in the process that serves on it and pick again if that bind fails with EADDRINUSE.
 */
export function pickPort(): number {
  const high = Math.min(ephemeralRange()[0], 65_536) - 1;
  const span = high - PICK_LOW + 1;
  if (span < 1000) {
    throw new Error(`pickPort: no room below the ephemeral range (starts at ${high + 1})`);
  }
  picked += 1;
  const start = (process.pid * 7919) % span;
  return PICK_LOW + ((start + picked * 613) % span);
}

/** Whether a process's output says it could not bind its port. */
export function saysAddressInUse(output: string): boolean {
  return /EADDRINUSE|Address already in use/i.test(output);
}

/**
 * A loopback port on which a connection is refused, guaranteed for as long as it is held:
 * the port is the local end of an open connection the test process keeps, so no process can
 * listen on it (every bind fails with EADDRINUSE), and a connection to it gets a reset. No
 * probe, no release, no race.
 */
export interface ClosedPort {
  port: number;
  /** `<scheme>://127.0.0.1:<port>` (default `http`). */
  url(scheme?: string): string;
  release(): Promise<void>;
}

export async function holdClosedPort(): Promise<ClosedPort> {
  const peers = new Set<Socket>();
  const server = createServer((socket) => {
    peers.add(socket);
    socket.on('error', () => undefined);
  });
  server.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  const serverPort = typeof address === 'object' && address ? address.port : 0;
  const client = connect(serverPort, '127.0.0.1');
  client.unref();
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  // Stop listening (the accepted socket stays open): the client socket keeps its port bound.
  server.close();
  const port = client.localPort!;
  return {
    port,
    url: (scheme = 'http') => `${scheme}://127.0.0.1:${port}`,
    async release() {
      client.destroy();
      peers.forEach((peer) => peer.destroy());
    },
  };
}
