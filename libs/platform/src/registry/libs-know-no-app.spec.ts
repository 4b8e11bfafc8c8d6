import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import registryJson from '../../../../services.json';
import { parseServiceRegistry } from './service-registry';

const ROOT = join(__dirname, '../../../..');
const LIBS = join(ROOT, 'libs');

/** Files allowed to name an app: none. */
const KNOWN_OFFENDERS: readonly string[] = [];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === 'node_modules' ? [] : sourceFiles(path);
    }
    return entry.name.endsWith('.ts') && !/\.(e2e-)?spec\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe('the libraries know no app', () => {
  const registry = parseServiceRegistry(registryJson);
  const facts = [
    ...registry.services.map((service) => service.name),
    ...registry.services.map((service) => `${service.envStem}_`),
    ...registry.services.map((service) => `:${service.port}`),
    registry.apiPrefix,
  ];

  it('finds no service name, service variable, default port or the api prefix in libs/', () => {
    const found: string[] = [];
    for (const file of sourceFiles(LIBS)) {
      const path = relative(ROOT, file).split('\\').join('/');
      if (KNOWN_OFFENDERS.includes(path)) {
        continue;
      }
      const text = readFileSync(file, 'utf8');
      for (const fact of facts) {
        if (text.includes(fact)) {
          found.push(`${path}: ${fact}`);
        }
      }
    }
    expect(found).toEqual([]);
  });

  it('scans the libraries at all', () => {
    expect(sourceFiles(LIBS).length).toBeGreaterThan(50);
    expect(facts).toContain(registry.apiPrefix);
  });
});
