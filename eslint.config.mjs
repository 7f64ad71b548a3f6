// @ts-check
// typescript-eslint's recommended rules, plus the three type-aware ones that catch promises nobody awaits
// (the whole type-checked set mostly flags the tests' `any` JSON bodies, and costs 3x the time).
// Prettier owns the layout: eslint-config-prettier turns off the rules that would fight it.
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['**/dist/', 'coverage/', 'data/', 'bench/http/profiles/'] },
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    // Tracing's SDK is required inside startTracing, so that a service without tracing never loads it.
    files: ['src/observability/tracing.ts'],
    rules: { '@typescript-eslint/no-require-imports': ['error', { allow: ['^@opentelemetry/'] }] },
  },
  {
    // PGlite's contrib extensions: see EXTENSIONS there.
    files: ['src/config/database.ts'],
    rules: { '@typescript-eslint/no-require-imports': ['error', { allow: ['^@electric-sql/pglite/contrib/'] }] },
  },
  {
    // Tests read JSON bodies and rows as `any`; the service's own code does without.
    files: ['test/**/*.ts', '**/*.spec.ts'],
    languageOptions: { globals: globals.jest },
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The benches and the Jest config are plain CommonJS scripts.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-redeclare': ['error', { builtinGlobals: false }] },
  },
  prettier,
);
