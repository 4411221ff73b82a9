'use strict';
/**
 * Runs the example's TypeScript straight from source, compiled in memory by @swc/core (a
 * devDependency already installed; nothing is downloaded):
 *   node -r ./examples/consumer/swc-register.cjs examples/consumer/main.ts
 * Only `.ts` files are compiled (to CommonJS, with Nest's decorator metadata, as in Jest);
 * packages in node_modules load as they are.
 */
const { readFileSync } = require('node:fs');
const Module = require('node:module');
const { transformSync } = require('@swc/core');

const options = {
  swcrc: false,
  sourceMaps: 'inline',
  jsc: {
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};

Module._extensions['.ts'] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
