// Runs the repository's TypeScript scripts on Node 20 without a build step:
//   node -r ./scripts/ts-register.js scripts/registry-sync.ts
// Each .ts file is transpiled on require with @swc/core (already a dev dependency, used by
// Jest), types stripped and not checked: `npm run check` type-checks scripts/ with tsc.
const fs = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
