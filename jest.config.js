// Nest 12, @nestjs/* and jose are ESM-only; Jest on Node 20 cannot require ESM, so @swc/jest
// compiles them to CommonJS along with our TypeScript (see ../shared/STACK-NOTES.md).
const ESM_PACKAGES = ['@nestjs', 'jose', 'file-type', 'strtok3', 'token-types', '@tokenizer', 'uint8array-extras', 'load-esm', 'cookie', 'content-disposition', 'path-to-regexp', 'uid', '@borewit', 'fflate', 'openid-client', 'oauth4webapi'];

const transform = {
  '^.+\\.(t|j|mj)s$': ['@swc/jest', {
    jsc: {
      parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs', ignoreDynamic: false },
  }],
};

const common = {
  transform,
  transformIgnorePatterns: [`node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};

module.exports = {
  verbose: false,
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', rootDir: 'src', testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/utils/global-setup.mjs',
      globalTeardown: '<rootDir>/test/utils/global-teardown.mjs',
      setupFilesAfterEnv: ['<rootDir>/test/utils/jest-setup.ts'],
    },
  ],
};
