#!/usr/bin/env node
// @ts-check
// The benchmark's OTLP and Sentry endpoints (bench/sla.mjs), in a process of their own so that
// receiving the platform's exports is not counted as load-generator CPU: two HTTP servers that
// accept everything and discard it, counting requests and bytes. Prints
// `{"otlp":<port>,"sentry":<port>}` once listening; `GET /__stats` on either answers its counts.
import { createServer } from 'node:http';

/** @param {{ type: string, body: string }} answer */
function receiver(answer) {
  const stats = { requests: 0, bytes: 0 };
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/__stats') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    req.on('data', (chunk) => (stats.bytes += chunk.length));
    req.on('end', () => {
      stats.requests += 1;
      res.writeHead(200, { 'content-type': answer.type });
      res.end(answer.body);
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(/** @type {import('node:net').AddressInfo} */ (server.address()).port),
    ),
  );
}

const otlp = await receiver({ type: 'application/x-protobuf', body: '' });
const sentry = await receiver({ type: 'application/json', body: '{}' });
process.stdout.write(`${JSON.stringify({ otlp, sentry })}\n`);
