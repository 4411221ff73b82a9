// `npm test -w @tessera/nest-guard`: the package's own specs, with the repository's Jest settings.
const common = require('../../jest.base');

module.exports = { ...common, displayName: 'guard', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'], testTimeout: 60000 };
