#!/usr/bin/env node
// Cost per request of the session revocation check (issue 11): the verifiers look the token's
// `sid` up in the in-process revocation list after their verified-token cache. This measures
// that lookup with the list holding `revoked` sessions, next to the cached-verification path it
// is added to (a Map hit on the token), in ns per request. Prints numbers; asserts nothing.
//
//   node bench/revocation-check.mjs [revoked=10000] [lookups=2000000]
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

const REVOKED = Number(process.argv[2] ?? 10_000);
const LOOKUPS = Number(process.argv[3] ?? 2_000_000);

// The same shape as RevocationList: sid -> expiry (epoch ms), expired entries dropped on read.
const revoked = new Map();
const until = Date.now() + 600_000;
for (let i = 0; i < REVOKED; i += 1) {
  revoked.set(randomUUID(), until);
}
const isRevoked = (sid) => {
  const expiry = revoked.get(sid);
  if (expiry === undefined) {
    return false;
  }
  if (expiry <= Date.now()) {
    revoked.delete(sid);
    return false;
  }
  return true;
};

// The verified-token cache the check follows: token -> { user, validUntil }.
const tokens = Array.from({ length: 1000 }, () => `eyJ${randomUUID()}.${randomUUID()}.${randomUUID()}`);
const sids = tokens.map(() => randomUUID());
const cache = new Map(tokens.map((t, i) => [t, { user: { id: 'u', sessionId: sids[i] }, validUntil: until }]));

function run(label, body) {
  let sink = 0;
  for (let i = 0; i < 100_000; i += 1) {
    sink += body(i) ? 1 : 0;
  }
  const started = performance.now();
  for (let i = 0; i < LOOKUPS; i += 1) {
    sink += body(i) ? 1 : 0;
  }
  const ns = ((performance.now() - started) * 1e6) / LOOKUPS;
  console.log(`${label.padEnd(44)} ${ns.toFixed(1)} ns/request (sink ${sink % 2})`);
}

run('cached verification (Map hit, expiry check)', (i) => {
  const hit = cache.get(tokens[i % 1000]);
  return hit !== undefined && hit.validUntil > Date.now();
});
run(`… plus revocation check (${REVOKED} revoked)`, (i) => {
  const hit = cache.get(tokens[i % 1000]);
  return hit !== undefined && hit.validUntil > Date.now() && !isRevoked(hit.user.sessionId);
});
