// Lint: type-aware TypeScript rules plus the architecture's import direction
// (shared/ARCHITECTURE.md): apps -> libs/persistence -> libs/domain -> libs/protocol;
// devices/ and simulators/ import libs/protocol only.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const forbid = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map(([group, message]) => ({ group, message })) }],
});

const NEST = [['@nestjs/*'], 'Nest belongs to apps/ only'];
const PRISMA = [['@prisma/*', 'pg', '@electric-sql/*', 'pglite-prisma-adapter'], 'database access belongs to libs/persistence'];
const APPS = [['**/apps/**'], 'libs, devices and simulators never import apps/'];
const PERSISTENCE = [['**/persistence/**', '**/libs/persistence/**'], 'only apps/ import libs/persistence'];
const DOMAIN = [
  ['**/domain/**', '**/libs/domain/**'],
  'libs/protocol is the bottom layer; devices/ and simulators/ import libs/protocol only',
];

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'libs/persistence/src/generated/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: __dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    // Nest injects by constructor parameter types: those imports must stay value imports.
    files: ['apps/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
  { files: ['libs/protocol/**/*.ts'], rules: forbid(NEST, PRISMA, APPS, PERSISTENCE, DOMAIN) },
  { files: ['libs/domain/**/*.ts'], rules: forbid(NEST, PRISMA, APPS, PERSISTENCE) },
  { files: ['libs/persistence/**/*.ts'], rules: forbid(NEST, APPS) },
  { files: ['devices/**/*.ts', 'simulators/**/*.ts'], rules: forbid(NEST, PRISMA, APPS, PERSISTENCE, DOMAIN) },
  {
    // Tests, scripts and the CLI entry talk to people on the terminal.
    files: ['test/**/*.ts', 'scripts/**/*.ts', '**/*.spec.ts', 'apps/gateway/src/main.ts'],
    rules: {
      'no-console': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { projectService: false },
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off', 'no-console': 'off' },
  },
  {
    // The gateway's web pages: plain ES modules run by the browser.
    files: ['apps/gateway/web/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'navigator',
          'location',
          'history',
          'sessionStorage',
          'localStorage',
          'fetch',
          'AbortController',
          'TextDecoderStream',
          'URL',
          'URLSearchParams',
          'Intl',
          'HTMLElement',
          'Blob',
          'FormData',
          'EventSource',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'requestAnimationFrame',
          'console',
          'confirm',
          'uPlot',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
