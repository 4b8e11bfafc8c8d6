#!/usr/bin/env node
// Builds every app with the Nest CLI (webpack, node_modules kept external) to
// dist/apps/<app>/main.js. Apps build one after another: the machine has two cores.
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const apps = ['api-gateway', 'auth-service', 'users-service'].filter((app) =>
  existsSync(join(root, 'apps', app, 'src', 'main.ts')),
);
const nest = join(root, 'node_modules', '.bin', 'nest');
for (const app of apps) {
  const started = Date.now();
  execFileSync(nest, ['build', app], { cwd: root, stdio: 'inherit' });
  console.log(`built ${app} -> dist/apps/${app}/main.js (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
