#!/usr/bin/env node
// `npm run new-service -- <name> [--port <n>] [--prefix <segment>] [--entity <Name>]`
//
// Scaffolds apps/<name>/ from templates/service/, appends its entry to services.json and runs
// `npm run sync:registry` (compose, Kubernetes, Prometheus, Grafana, nest-cli.json, … follow
// the registry). Nothing else in the repository changes. See "Add a service" in README.md.
const { spawnSync } = require('node:child_process');
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const templateDir = join(root, 'templates', 'service');
const registryFile = join(root, 'services.json');

const USAGE = `Usage: npm run new-service -- <name> [--port <n>] [--prefix <segment>] [--entity <Name>]

  <name>      lower-case words joined by "-", ending in "-service" (e.g. orders-service),
              at most 40 characters (it names the app, its database, its Kubernetes objects)
  --port      its port (default: one above the highest port in services.json)
  --prefix    its public path segment under the API prefix (default: <name> without
              "-service", e.g. orders -> /api/v1/orders)
  --entity    the class name of its first entity (default: the prefix in the singular,
              e.g. Order)`;

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*-service$/;
const SEGMENT = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const ENTITY = /^[A-Z][A-Za-z0-9]*$/;

function fail(message) {
  console.error(`new-service: ${message}`);
  process.exit(1);
}

function parseArgs(argv) {
  const options = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    }
    const match = /^--(port|prefix|entity)(?:=(.*))?$/.exec(arg);
    if (match) {
      const value = match[2] ?? argv[++i];
      if (value === undefined || value === '') {
        fail(`--${match[1]} needs a value\n\n${USAGE}`);
      }
      options[match[1]] = value;
    } else if (arg.startsWith('-')) {
      fail(`unknown option ${arg}\n\n${USAGE}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) {
    fail(`give exactly one service name\n\n${USAGE}`);
  }
  return { name: positional[0], ...options };
}

const pascal = (kebab) =>
  kebab
    .split('-')
    .map((word) => word[0].toUpperCase() + word.slice(1))
    .join('');
const camel = (kebab) => {
  const p = pascal(kebab);
  return p[0].toLowerCase() + p.slice(1);
};
const kebabOf = (pascalName) => pascalName.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** orders -> order, categories -> category, address -> address (good enough; --entity overrides). */
function singular(word) {
  if (/ies$/.test(word)) {
    return word.slice(0, -3) + 'y';
  }
  if (/[^s]s$/.test(word)) {
    return word.slice(0, -1);
  }
  return word;
}

/** The names the template spells `tpl-service`, `tpl-items`, `TplItem`, … */
function namesFor(name, prefix, entity) {
  const itemKebab = kebabOf(entity);
  return {
    'tpl-service': name,
    'tpl-items': prefix,
    'tpl-item': itemKebab,
    tpl_items: prefix.replace(/-/g, '_'),
    TPL_ITEM: itemKebab.replace(/-/g, '_').toUpperCase(),
    TplItems: pascal(prefix),
    TplItem: entity,
    tplItems: camel(prefix),
    tplItem: camel(itemKebab),
    1700000000000: String(Date.now()),
  };
}

function substitute(text, names) {
  // Longest tokens first, so `tpl-items` is never read as `tpl-item` + `s`.
  const tokens = Object.keys(names).sort((a, b) => b.length - a.length);
  const pattern = new RegExp(tokens.map((t) => t.replace(/[-_]/g, '\\$&')).join('|'), 'g');
  return text.replace(pattern, (token) => names[token]);
}

function templateFiles(dir, base = dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? templateFiles(path, base) : [relative(base, path)];
  });
}

/**
 * services.json written back in its own layout: one key per line, a route per line, lists
 * and small objects inline, so a new entry is the only change in its diff.
 */
function formatRegistry(registry) {
  const inline = (value) => {
    if (Array.isArray(value)) {
      return `[${value.map(inline).join(', ')}]`;
    }
    if (value && typeof value === 'object') {
      const fields = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${inline(v)}`);
      return `{ ${fields.join(', ')} }`;
    }
    return JSON.stringify(value);
  };
  const service = (entry) => {
    const fields = Object.entries(entry).map(([key, value]) => {
      const text =
        key === 'routes' && value.length > 0
          ? `[\n${value.map((route) => `        ${inline(route)}`).join(',\n')}\n      ]`
          : inline(value);
      return `      ${JSON.stringify(key)}: ${text}`;
    });
    return `    {\n${fields.join(',\n')}\n    }`;
  };
  const top = Object.entries(registry).map(([key, value]) =>
    key === 'services'
      ? `  "services": [\n${value.map(service).join(',\n')}\n  ]`
      : `  ${JSON.stringify(key)}: ${inline(value)}`,
  );
  return `{\n${top.join(',\n')}\n}\n`;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const registryText = readFileSync(registryFile, 'utf8');
  const registry = JSON.parse(registryText);
  const services = registry.services;

  const { name } = args;
  if (!NAME.test(name) || name.length > 40) {
    fail(
      `"${name}" is not a service name: lower-case words joined by "-", ending in "-service", ` +
        'at most 40 characters (e.g. orders-service)',
    );
  }
  if (services.some((service) => service.name === name)) {
    fail(`${name} is already in services.json`);
  }
  const appDir = join(root, 'apps', name);
  if (existsSync(appDir)) {
    fail(`apps/${name} already exists`);
  }

  const ports = services.map((service) => service.port);
  const port = args.port === undefined ? Math.max(...ports) + 1 : Number(args.port);
  if (!Number.isInteger(port) || port < 1024 || port > 65535) {
    fail(`--port ${args.port}: a port is an integer from 1024 to 65535`);
  }
  const owner = services.find((service) => service.port === port);
  if (owner) {
    fail(`port ${port} is already ${owner.name}'s in services.json`);
  }

  const prefix = args.prefix ?? name.replace(/-service$/, '');
  if (!SEGMENT.test(prefix)) {
    fail(`--prefix ${prefix}: one path segment of lower-case words joined by "-"`);
  }
  const taken = services.find((service) =>
    (service.routes ?? []).some((route) => route.path.split('/')[1] === prefix),
  );
  if (taken) {
    fail(`the prefix /${prefix} is already routed to ${taken.name}; choose another with --prefix`);
  }

  const entity = args.entity ?? pascal(singular(prefix));
  if (!ENTITY.test(entity)) {
    fail(`--entity ${entity}: a class name such as Order`);
  }
  const names = namesFor(name, prefix, entity);

  const entry = {
    name,
    kind: 'service',
    port,
    database: true,
    // For the public keys of access tokens (JWKS) and the revocation feed.
    calls: ['auth-service'],
    upstream: { connectTimeout: '1s', timeout: '10s' },
    routes: [
      { method: 'GET', path: `/${prefix}`, auth: 'bearer' },
      { method: 'POST', path: `/${prefix}`, auth: 'bearer' },
      { method: 'GET', path: `/${prefix}/:id`, auth: 'bearer', params: { id: 'uuid' } },
    ],
  };
  const gateway = services.find((service) => service.kind === 'gateway');
  const next = {
    ...registry,
    services: [
      ...services.map((service) =>
        service === gateway ? { ...service, calls: [...(service.calls ?? []), name] } : service,
      ),
      entry,
    ],
  };

  const written = [];
  try {
    for (const file of templateFiles(templateDir)) {
      const target = join(appDir, substitute(file, names));
      mkdirSync(join(target, '..'), { recursive: true });
      writeFileSync(target, substitute(readFileSync(join(templateDir, file), 'utf8'), names));
      written.push(relative(root, target));
    }
    writeFileSync(registryFile, formatRegistry(next));
  } catch (error) {
    rmSync(appDir, { recursive: true, force: true });
    writeFileSync(registryFile, registryText);
    throw error;
  }

  const scripts = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts ?? {};
  let synced = false;
  if (scripts['sync:registry']) {
    const run = spawnSync('npm', ['run', '--silent', 'sync:registry'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (run.status !== 0) {
      fail(
        `apps/${name} and its services.json entry are written, but \`npm run sync:registry\` ` +
          'failed: fix the cause and run it again',
      );
    }
    synced = true;
  }

  console.log(`
Created ${name} (port ${port}), routed by the gateway as ${registry.apiPrefix}/${prefix}:
  ${written.sort().join('\n  ')}
  services.json: its entry (routes, database, calls auth-service); the gateway calls it
${
  synced
    ? '  npm run sync:registry: nest-cli.json, compose, Kubernetes, Prometheus, Grafana, … follow'
    : '  NOTE: no `sync:registry` script in package.json yet: the generated delivery files\n' +
      '  (nest-cli.json, compose, Kubernetes, Prometheus, Grafana) are not updated.'
}
Next:
  npm run build -- ${name} api-gateway
  npx jest --selectProjects e2e --testPathPatterns apps/${name}
  npm start        (then POST ${registry.apiPrefix}/${prefix} through http://127.0.0.1:${gateway.port})`);
}

main();
