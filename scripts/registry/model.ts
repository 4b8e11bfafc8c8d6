import { readFileSync } from 'node:fs';
import {
  parseServiceRegistry,
  type RegistryService,
  type ServiceRegistry,
} from '../../libs/platform/src/registry/service-registry';

export type { RegistryService, ServiceRegistry };

/** The header of every generated file whose format has comments. */
export const GENERATED = 'generated from services.json by npm run sync:registry — do not edit';

/** Reads and validates a registry file (services.json). */
export function loadRegistry(file: string): ServiceRegistry {
  return parseServiceRegistry(JSON.parse(readFileSync(file, 'utf8')) as unknown);
}

/** `auth` for `auth-service`, `api-gateway` stays: names databases, secrets and SLOs. */
export function shortName(service: RegistryService): string {
  return service.name.replace(/-service$/, '');
}

/** `keel_auth` for auth-service: its PostgreSQL database (docker/, k8s dev overlay). */
export function databaseName(service: RegistryService): string {
  return `keel_${shortName(service).replace(/-/g, '_')}`;
}

/** `AUTH_DATABASE_URL`: the key of its DATABASE_URL in the Secret keel-secrets. */
export function databaseSecretKey(service: RegistryService): string {
  return `${shortName(service).toUpperCase().replace(/-/g, '_')}_DATABASE_URL`;
}

/** `Auth` for auth-service, `OrderItems` for order-items-service: alert name stems. */
export function pascalName(service: RegistryService): string {
  return shortName(service)
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('');
}

/** The services that call `service` over HTTP. */
export function callers(registry: ServiceRegistry, service: RegistryService): RegistryService[] {
  return registry.services.filter((other) => other.calls.includes(service.name));
}

/**
 * Start-up order for compose's depends_on: each service waits for what it calls, except
 * where that would close a cycle (auth-service and users-service call each other; the
 * earlier one in the registry waits for the later one).
 */
export function startupDependencies(registry: ServiceRegistry): Map<string, string[]> {
  const edges = new Map<string, string[]>(registry.services.map((s) => [s.name, []]));
  const reaches = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) {
      return true;
    }
    seen.add(from);
    return (edges.get(from) ?? []).some((next) => !seen.has(next) && reaches(next, to, seen));
  };
  for (const service of registry.services) {
    for (const callee of service.calls) {
      if (!reaches(callee, service.name)) {
        edges.get(service.name)!.push(callee);
      }
    }
  }
  return edges;
}

/** Lines joined with "\n", ending in one. */
export function lines(...parts: (string | string[] | false | undefined)[]): string {
  return (
    parts
      .flat()
      .filter((p): p is string => typeof p === 'string')
      .join('\n') + '\n'
  );
}

/** `# text` lines wrapped at 96 columns. */
export function comment(text: string, indent = ''): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + 2 + line.length + 1 + word.length > 96) {
      out.push(`${indent}# ${line}`);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) {
    out.push(`${indent}# ${line}`);
  }
  return out;
}
