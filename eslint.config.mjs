// One lint set-up for the whole repository: typescript-eslint's recommended rules, import order,
// and the module boundaries docs/conventions.md describes (the guard package imports nothing from
// the server; common/ and config/ import no feature folder). Formatting is Prettier's job.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const FEATURES = [
  'api-keys',
  'audit',
  'auth',
  'clients',
  'database',
  'discovery',
  'forward-auth',
  'health',
  'keys',
  'me',
  'oauth',
  'observability',
  'refresh',
  'registered-keys',
  'revocation',
  'tenants',
  'tokens',
  'verification',
  'trusted-issuers',
  'dpop',
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  importX.flatConfigs.recommended,
  importX.flatConfigs.typescript,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        fetch: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        performance: 'readonly',
        __dirname: 'readonly',
        require: 'readonly',
        module: 'writable',
        globalThis: 'readonly',
      },
    },
    settings: {
      'import-x/resolver-next': [
        createTypeScriptImportResolver({
          project: ['tsconfig.check.json', 'packages/nest-guard/tsconfig.json'],
          noWarnOnMultipleProjects: true,
        }),
      ],
    },
    rules: {
      'import-x/order': [
        'warn',
        { groups: ['builtin', 'external', 'internal', 'parent', 'sibling', 'index'], alphabetize: { order: 'asc', caseInsensitive: true } },
      ],
      'import-x/no-duplicates': 'warn',
      'import-x/no-named-as-default-member': 'off',
      // Refusing control characters in tokens, paths and headers is the point of those patterns.
      'no-control-regex': 'off',
      '@typescript-eslint/no-unused-vars': ['warn', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './packages/nest-guard/src',
              from: ['./src', './test', './examples', './bench'],
              message: 'The guard package imports nothing from the server: it is installed on its own.',
            },
            {
              target: ['./src/common', './src/config'],
              from: FEATURES.map((f) => `./src/${f}`),
              message: 'common/ and config/ import no feature folder; move the shared piece down or inject it.',
            },
          ],
        },
      ],
    },
  },
  {
    // bench/ has its own package.json and node_modules (npm run bench:install).
    files: ['bench/**'],
    rules: { 'import-x/no-unresolved': ['error', { ignore: ['^autocannon$', '^oidc-provider$'] }] },
  },
  {
    files: ['**/*.spec.ts', 'test/**/*.ts', 'bench/**', 'examples/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // import-x's own docs import it this way.
    files: ['eslint.config.mjs'],
    rules: { 'import-x/no-named-as-default': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
