#!/usr/bin/env node
// The floor for bench/sla.mjs: a bare Express app serving auth-service's JWKS document (JWKS,
// a JSON string in the environment) at GET /.well-known/jwks.json; no middleware at all.
const express = require('express');

const jwks = JSON.parse(process.env.JWKS ?? '{"keys":[]}');
const app = express();
app.get('/health/live', (_req, res) => res.json({ status: 'ok' }));
app.get('/.well-known/jwks.json', (_req, res) => res.json(jwks));
app.listen(Number(process.env.PORT), '127.0.0.1');
