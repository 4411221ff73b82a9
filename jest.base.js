// Shared Jest settings for the server and the workspace packages.
// Nest 12, @nestjs/* and jose are ESM-only; Jest on Node 20 cannot require ESM, so @swc/jest
// compiles them to CommonJS along with our TypeScript.
const ESM_PACKAGES = [
  '@nestjs',
  'jose',
  'file-type',
  'strtok3',
  'token-types',
  '@tokenizer',
  'uint8array-extras',
  'load-esm',
  'cookie',
  'content-disposition',
  'path-to-regexp',
  'uid',
  '@borewit',
  'fflate',
  'openid-client',
  'oauth4webapi',
];

const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
        keepClassNames: true,
      },
      module: { type: 'commonjs', ignoreDynamic: false },
    },
  ],
};

module.exports = {
  transform,
  transformIgnorePatterns: [`node_modules/(?!(${ESM_PACKAGES.join('|')})/)`],
  // Tests run the guard package from its sources, so they never see a stale dist/.
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^@tessera/nest-guard$': `${__dirname}/packages/nest-guard/src/index.ts`,
    '^@tessera/nest-guard/passport$': `${__dirname}/packages/nest-guard/src/passport/index.ts`,
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  testEnvironment: 'node',
};
