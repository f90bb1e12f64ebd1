// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/**
 * The floors of src/ (docs/how-it-works.md, "Where things live"): each folder imports only from itself and
 * the folders listed for it, all of them lower; nothing imports upwards. Import circles are found by
 * `npm run check:imports` (dpdm), which also sees imports of types.
 */
const floors = {
  model: [],
  tc: ['model'],
  config: ['model', 'tc'],
  host: ['model', 'ports'],
  netns: ['model', 'ports', 'tc'],
  runtime: ['model', 'ports'],
  kube: ['model', 'ports'],
  resolve: ['model', 'ports', 'tc', 'kube'],
  effect: ['model', 'ports', 'tc'],
  probes: ['model', 'ports', 'kube'],
  connections: ['model', 'ports', 'tc', 'kube', 'resolve'],
  lifecycle: ['model', 'ports', 'tc', 'netns', 'runtime', 'resolve', 'effect'],
  litmus: ['model', 'ports', 'tc', 'config', 'host', 'netns', 'runtime', 'kube', 'resolve', 'effect', 'probes', 'lifecycle', 'connections'],
};

/** An import of another folder of src/ (or of src/ports.ts) that is not among the allowed ones. */
const upward = (/** @type {string[]} */ allowed) => ({
  regex: `^\\.\\./(?!(${allowed.join('|') || '-'})(/|\\.js$))`,
  message: `this folder may import only from ${allowed.join(', ') || 'itself'} (the floors of src/: eslint.config.js, docs/how-it-works.md)`,
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'hub/', 'test/lab/.out/', 'bench/.out/', '.lab-build/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'never' }],
      '@typescript-eslint/no-unnecessary-condition': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // Data tables (the variables, the permissions, a pod spec) are not functions; the code is cut smaller.
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  ...Object.entries(floors).map(([folder, allowed]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns: [upward([folder, ...allowed])] }] },
  })),
  {
    files: ['src/ports.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [{ regex: '^\\./(?!model/)', message: 'the ports import only model/ (the floors of src/)' }] }] },
  },
  {
    files: ['test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/consistent-type-assertions': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // node:test's describe()/test() return promises the runner tracks itself.
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node, parserOptions: { projectService: false, project: null } },
  },
);
