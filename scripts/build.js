#!/usr/bin/env node
// Builds the apps of services.json with the Nest CLI (webpack, node_modules kept external) to
// dist/apps/<app>/main.js. Apps build one after another: the machine has two cores.
//
//   node scripts/build.js                          every app in services.json
//   node scripts/build.js orders-service api-gateway   only these
//   node scripts/build.js --transpile-only …       skip the type check (tests that `tsc` separately)
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const registry = JSON.parse(readFileSync(join(root, 'services.json'), 'utf8'));
const known = registry.services.map((service) => service.name);

const args = process.argv.slice(2);
const transpileOnly = args.includes('--transpile-only');
const named = args.filter((arg) => !arg.startsWith('--'));
const unknown = named.filter((name) => !known.includes(name));
if (unknown.length > 0) {
  console.error(`Not in services.json: ${unknown.join(', ')} (known: ${known.join(', ')})`);
  process.exit(1);
}
const apps = (named.length > 0 ? named : known).filter((app) =>
  existsSync(join(root, 'apps', app, 'src', 'main.ts')),
);
const nest = join(root, 'node_modules', '.bin', 'nest');
const extra = transpileOnly ? ['--webpackPath', 'scripts/webpack-transpile-only.js'] : [];

// An app of the registry that nest-cli.json does not list yet (`npm run sync:registry` adds
// it) builds with a copy of nest-cli.json that does, kept under dist/.
const nestCli = JSON.parse(readFileSync(join(root, 'nest-cli.json'), 'utf8'));
const unlisted = apps.filter((app) => !nestCli.projects?.[app]);
if (unlisted.length > 0) {
  for (const app of unlisted) {
    nestCli.projects[app] = {
      type: 'application',
      root: `apps/${app}`,
      entryFile: 'main',
      sourceRoot: `apps/${app}/src`,
      compilerOptions: { tsConfigPath: `apps/${app}/tsconfig.app.json` },
    };
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', '.nest-cli.registry.json'), JSON.stringify(nestCli, null, 2));
  extra.push('--config', 'dist/.nest-cli.registry.json');
  console.log(`nest-cli.json does not list ${unlisted.join(', ')} (run npm run sync:registry)`);
}
for (const app of apps) {
  const started = Date.now();
  execFileSync(nest, ['build', app, ...extra], { cwd: root, stdio: 'inherit' });
  console.log(
    `built ${app} -> dist/apps/${app}/main.js (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}
