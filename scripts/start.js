#!/usr/bin/env node
// `npm start`: runs every built app of services.json on its registry port with the embedded defaults
// (SQLite under ./data, in-process stores, no exporter). Ctrl-C stops them all.
const { spawn } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const http = require('node:http');
const { join } = require('node:path');

const root = join(__dirname, '..');
// V8 heap flags of the built apps, as in docker/Dockerfile and the k8s/Compose manifests
// (scripts/registry/ops.ts; check:delivery compares them): docs/performance.md, "Memory".
// A NODE_OPTIONS of the caller's environment replaces them.
const NODE_OPTIONS = '--max-old-space-size=128 --max-semi-space-size=32';
const registry = JSON.parse(readFileSync(join(root, 'services.json'), 'utf8'));
// Upstreams first (registry order), the gateway last, so it finds them answering.
const APPS = [
  ...registry.services.filter((service) => service.kind !== 'gateway'),
  ...registry.services.filter((service) => service.kind === 'gateway'),
]
  .map((service) => ({ name: service.name, port: service.port }))
  .filter((app) => existsSync(join(root, 'dist', 'apps', app.name, 'main.js')));

const children = new Map();
let stopping = false;

function waitForHttp(port, child, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error('exited during start-up'));
        return;
      }
      const req = http.get({ host: '127.0.0.1', port, path: '/health/live', timeout: 1000 }, (res) => {
        res.resume();
        resolve();
      });
      req.on('error', () => {
        if (Date.now() > deadline) {
          reject(new Error(`not answering on port ${port}`));
        } else {
          setTimeout(attempt, 200);
        }
      });
      req.on('timeout', () => req.destroy());
    };
    attempt();
  });
}

function stopAll(code) {
  if (stopping) {
    return;
  }
  stopping = true;
  for (const child of children.values()) {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
    }
  }
  const force = setTimeout(() => {
    for (const child of children.values()) {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
      }
    }
  }, 10_000);
  force.unref();
  const wait = () =>
    [...children.values()].every((child) => child.exitCode !== null || child.signalCode !== null)
      ? process.exit(code)
      : setTimeout(wait, 100);
  wait();
}

process.on('SIGINT', () => stopAll(0));
process.on('SIGTERM', () => stopAll(0));

(async () => {
  if (APPS.length === 0) {
    console.error('No built apps in dist/apps: run `npm run build` first.');
    process.exit(1);
  }
  for (const app of APPS) {
    const child = spawn(process.execPath, [join('dist', 'apps', app.name, 'main.js')], {
      cwd: root,
      stdio: 'inherit',
      env: { NODE_OPTIONS, ...process.env, PORT: String(app.port) },
    });
    children.set(app.name, child);
    child.on('exit', (code, signal) => {
      if (!stopping) {
        console.error(`${app.name} stopped unexpectedly (${signal ?? `exit ${code}`}); stopping the others.`);
        stopAll(1);
      }
    });
    try {
      await waitForHttp(app.port, child);
    } catch (error) {
      console.error(`${app.name} did not start: ${error.message}`);
      stopAll(1);
      return;
    }
  }
  console.log('\nKeel is running (Ctrl-C stops all):');
  for (const app of APPS) {
    console.log(`  ${app.name.padEnd(Math.max(...APPS.map((a) => a.name.length)) + 1)} http://127.0.0.1:${app.port}`);
  }
  const gateway = registry.services.find((service) => service.kind === 'gateway');
  console.log(`Public entry: http://127.0.0.1:${gateway.port}${registry.apiPrefix}\n`);
})();
