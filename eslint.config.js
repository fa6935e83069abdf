import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vitest from '@vitest/eslint-plugin';

// `import { z }` makes esbuild keep zod's whole namespace (every locale) in each Lambda bundle.
const zodImport = [
  {
    selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z'], ImportDeclaration[source.value='zod'] > ImportDefaultSpecifier",
    message: "use `import * as z from 'zod'` so Lambda bundles tree-shake",
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'cdk.out/**', '.certalarm/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': ['error', ...zodImport],
    },
  },
  {
    // The domain core stays pure: no AWS SDK, no adapters, no wall clock.
    files: ['functions/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['@aws-sdk/*', 'aws-cdk-lib', 'aws-cdk-lib/*'], message: 'The core must not depend on AWS.' },
          { group: ['**/adapters/**', '**/app/**', '**/handlers/**'], message: 'Dependencies point inward: the core imports only the core.' },
          { group: ['node:fs', 'node:fs/*', 'fs', 'node:http', 'node:child_process'], message: 'The core does no I/O.' },
        ],
      }],
      'no-restricted-syntax': ['error', ...zodImport, {
        selector: "CallExpression[callee.object.name='DateTime'][callee.property.name='now']",
        message: 'Time is an input: take `now` as a parameter.',
      }, {
        selector: "NewExpression[callee.name='Date'][arguments.length=0]",
        message: 'Time is an input: take `now` as a parameter.',
      }],
    },
  },
  {
    // Adapters implement ports from core/ports.ts and never import the application. The exceptions are
    // the composition roots and entry points that drive it: the Lambda handlers (functions/handlers/),
    // the local composition root, the local HTTP server and import worker, and the CLI.
    files: ['functions/adapters/**/*.ts'],
    ignores: [
      'functions/adapters/local/local-service.ts',
      'functions/adapters/local/local-import-worker.ts',
      'functions/adapters/local/http-server.ts',
      'functions/adapters/local/cli/**',
    ],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/app/**', '**/handlers/**'], message: 'An adapter implements a port (core/ports.ts) and never imports the application; move what it needs to core/ or contracts/.' },
        ],
      }],
    },
  },
  {
    // Shared between the application and the adapters: depends on nothing but the core.
    files: ['functions/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/adapters/**', '**/app/**', '**/handlers/**'], message: 'Contracts are shared by app and adapters: they import only the core.' },
        ],
      }],
    },
  },
  {
    files: ['test/**/*.ts'],
    plugins: { vitest },
    rules: {
      ...vitest.configs.recommended.rules,
      'vitest/no-focused-tests': 'error',
      'vitest/no-disabled-tests': 'error',
      'vitest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*'] }],
    },
  },
);
