/**
 * Writes the operations files that follow from services.json (compose, nest-cli.json, the
 * PostgreSQL init, Prometheus scrape jobs and rules, Grafana dashboards, the k8s base and
 * overlays), or checks that they are current. docs/delivery.md, "Generated from services.json".
 *
 *   npm run sync:registry                  # write
 *   npm run check:registry                 # exit 1 naming every file that differs
 *   node -r ./scripts/ts-register.js scripts/registry-sync.ts --registry <file> --root <dir> [--check]
 */
import { join, relative, resolve } from 'node:path';
import { loadRegistry } from './registry/model';
import { syncRegistry } from './registry/generate';

function option(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
}

function main(args: string[]): number {
  const root = resolve(option(args, '--root') ?? join(__dirname, '..'));
  const registryFile = resolve(option(args, '--registry') ?? join(root, 'services.json'));
  const check = args.includes('--check');
  const registry = loadRegistry(registryFile);
  const { changed, stale } = syncRegistry(registry, root, check);
  const from = relative(process.cwd(), registryFile) || registryFile;
  if (check) {
    if (changed.length || stale.length) {
      console.error(
        `generated files differ from what ${from} produces (run npm run sync:registry):`,
      );
      for (const file of changed) {
        console.error(`  ${file}`);
      }
      for (const file of stale) {
        console.error(`  ${file} (its service is not in the registry)`);
      }
      return 1;
    }
    console.log(`generated files match ${from}`);
    return 0;
  }
  for (const file of changed) {
    console.log(`wrote ${file}`);
  }
  for (const file of stale) {
    console.log(`removed ${file}`);
  }
  console.log(
    changed.length || stale.length ? 'done' : `nothing to do: everything matches ${from}`,
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
