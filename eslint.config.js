// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

/**
 * What each component may not import (docs/architecture.md draws the layers). Runtime
 * plumbing imports no component; the pure matcher nothing; on-host daemons (agent, lb-agent,
 * executor-cleanup) never the API layer, the scheduler or the lb manager, and share their
 * bootstrap (daemon: ZooKeeper session, leader discovery, signals) below them; the API layer
 * never the control loops; nothing but the CLI imports dev tooling.
 */
const ABOVE_STATE = [
  'deploys',
  'api',
  'scheduler',
  'lb',
  'agent',
  'executor-cleanup',
  'daemon',
  'dev',
  'cli',
];
const ABOVE_DAEMON = ABOVE_STATE.filter((c) => c !== 'daemon');
const layer = (target, forbidden, except = []) => ({
  target: `./src/${target}`,
  from: forbidden.map((f) => `./src/${f}`),
  except,
  message: `${target} may not import ${forbidden.join(', ')} (docs/architecture.md).`,
});
const LAYER_ZONES = [
  layer('runtime', ['coordination', 'leader', 'state', 'offers', 'observability', ...ABOVE_STATE]),
  layer('observability', ['coordination', 'leader', 'state', 'offers', 'runtime', ...ABOVE_STATE]),
  layer('offers', ['coordination', 'leader', 'state', 'runtime', 'observability', ...ABOVE_STATE]),
  layer('coordination', ['leader', 'state', 'offers', ...ABOVE_STATE]),
  layer('leader', ['state', 'offers', ...ABOVE_STATE]),
  layer('state', ['leader', ...ABOVE_STATE]),
  // The pure deploy state machine: the state model below it, nothing with I/O.
  layer('deploys', ['coordination', 'leader', 'runtime', 'offers', ...ABOVE_STATE.slice(1)]),
  // The on-host daemons' bootstrap: below agent, lb-agent and executor-cleanup.
  layer('daemon', ['state', 'offers', ...ABOVE_DAEMON]),
  layer('agent', ['deploys', 'api', 'scheduler', 'lb', 'executor-cleanup', 'dev', 'cli']),
  layer('executor-cleanup', ['deploys', 'api', 'scheduler', 'lb', 'dev', 'cli', 'leader']),
  layer('lb/agent', ['deploys', 'api', 'scheduler', 'agent', 'dev', 'cli']),
  layer('lb', ['deploys', 'api', 'agent', 'executor-cleanup', 'dev', 'cli']),
  layer('api', ['scheduler', 'lb', 'agent', 'executor-cleanup', 'dev', 'cli', 'leader']),
  layer('scheduler', ['agent', 'executor-cleanup', 'dev', 'cli']),
  layer('dev', ['cli']),
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.thales/**', 'src/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    // Without a TypeScript resolver, `../x/index.js` resolves to nothing and the import rules
    // (no-cycle, no-restricted-paths) silently check nothing.
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver()],
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'import-x/no-cycle': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // A detached promise goes through detach() (src/runtime/detach.ts), which logs its
      // rejection, or handles it itself: `void` alone is no answer (docs/architecture.md).
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: false }],
      '@typescript-eslint/no-misused-promises': 'error',
      // The layers of docs/architecture.md: a component imports only the ones below it.
      'import-x/no-restricted-paths': ['error', { zones: LAYER_ZONES }],
      // Components talk to each other through their index.ts only.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./(?!gen/)[a-z-]+/(?!index\\.js$)[^/]+$',
              message: 'Import another component through its index.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[property.name='only']", message: 'No .only in tests.' },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
