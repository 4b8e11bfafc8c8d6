#!/usr/bin/env node
// The floor for bench/gateway-overhead.js: a bare node:http server that maps
// /api/v1/<x> to UPSTREAM/<x> over one keep-alive undici Pool, with no framework, no token
// check, no logging, no tracing. PORT and UPSTREAM come from the environment.
const http = require('node:http');
const { Pool } = require('undici');

const pool = new Pool(process.env.UPSTREAM, { connect: { timeout: 1000 }, headersTimeout: 10_000 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'content-length']);

http
  .createServer(async (req, res) => {
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (!HOP.has(name)) {
        headers[name] = value;
      }
    }
    try {
      const upstream = await pool.request({
        method: req.method,
        path: req.url.replace(/^\/api\/v1/, ''),
        headers,
      });
      const body = Buffer.from(await upstream.body.arrayBuffer());
      res.writeHead(upstream.statusCode, {
        'content-type': upstream.headers['content-type'] ?? 'application/json',
        'content-length': body.length,
      });
      res.end(body);
    } catch {
      res.writeHead(502).end();
    }
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
