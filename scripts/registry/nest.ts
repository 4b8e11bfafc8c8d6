import { type ServiceRegistry } from './model';

const LIBRARIES = ['observability', 'security', 'platform'];

/**
 * nest-cli.json: one application project per registry service, the three libraries kept.
 * JSON has no comments: docs/delivery.md says it is generated, and the drift check guards it.
 */
export function nestCliFile(registry: ServiceRegistry): string {
  const gateway = registry.gateway().name;
  const project = (
    type: 'application' | 'library',
    root: string,
    entryFile: string,
    tsconfig: string,
  ) =>
    `{\n      "type": "${type}",\n      "root": "${root}",\n      "entryFile": "${entryFile}",\n      "sourceRoot": "${root}/src",\n      "compilerOptions": { "tsConfigPath": "${root}/${tsconfig}" }\n    }`;
  const projects = [
    ...registry.services.map(
      (s) =>
        `    "${s.name}": ${project('application', `apps/${s.name}`, 'main', 'tsconfig.app.json')}`,
    ),
    ...LIBRARIES.map(
      (lib) => `    "${lib}": ${project('library', `libs/${lib}`, 'index', 'tsconfig.lib.json')}`,
    ),
  ];
  return `{
  "$schema": "https://json.schemastore.org/nest-cli",
  "collection": "@nestjs/schematics",
  "monorepo": true,
  "root": "apps/${gateway}",
  "sourceRoot": "apps/${gateway}/src",
  "compilerOptions": {
    "webpack": true,
    "tsConfigPath": "apps/${gateway}/tsconfig.app.json",
    "deleteOutDir": true
  },
  "projects": {
${projects.join(',\n')}
  }
}
`;
}
