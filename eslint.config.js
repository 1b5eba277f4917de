// `npm run lint`: typescript-eslint's recommended rules plus the layer rules of docs/design.md.
// Import cycles and the client's inner layers are checked by scripts/check-cycles.mjs (run by the
// same script and by test/package/module-graph.test.ts).
import tseslint from 'typescript-eslint';

/** An error for any import whose path matches one of `groups` (gitignore-style patterns). */
const forbid = (message, ...groups) => ['error', { patterns: [{ group: groups, message }] }];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      // `let a!: T; let b!: T;` then `a = make(() => b)`: two values that refer to each other.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    files: ['src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        'src/protocol is pure: it imports only itself (no I/O, no other layer, no ssh2).',
        '../*',
        '!./*',
        'node:fs',
        'node:fs/*',
        'node:net',
        'node:child_process',
        'ssh2',
      ),
    },
  },
  {
    files: ['src/client/**/*.ts', 'src/server/**/*.ts'],
    rules: {
      'no-restricted-imports': forbid(
        'The client and the server never import the CLI, bench, tests or ssh2 (only src/transport does).',
        '**/cli/*',
        '**/bench/*',
        '**/test/*',
        'ssh2',
      ),
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/index.ts', 'src/advanced.ts'],
    rules: {
      'no-restricted-imports': forbid('Only src/transport imports ssh2 (types included).', 'ssh2'),
    },
  },
);
