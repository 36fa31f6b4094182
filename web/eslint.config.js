// ESLint (flat config): typescript-eslint's recommended rules for the
// TypeScript sources and React's hook rules for the components. Type checking
// itself is `npm run typecheck`; this catches what tsc does not (hook order,
// stale effect dependencies, unused expressions).
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { defineConfig } from 'eslint/config';

export default defineConfig([
  { ignores: ['dist/', 'node_modules/', 'test-results/', 'playwright-report/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    files: ['src/**/*.{ts,tsx}'],
    languageOptions: { globals: globals.browser },
  },
  {
    files: ['src/**/*.{ts,tsx}'],
    ...reactHooks.configs.flat.recommended,
    rules: {
      ...reactHooks.configs.flat.recommended.rules,
      // The React Compiler's rules. The studio is not compiled by it, and
      // these flag deliberate patterns (a loading flag set as an effect
      // starts, a ref mirroring the latest prop, a timestamp taken once):
      // adopting them means restructuring most components, not fixing bugs.
      'react-hooks/set-state-in-effect': 'off',
      'react-hooks/refs': 'off',
      'react-hooks/purity': 'off',
      // A stale dependency is a bug here, not a style question.
      'react-hooks/exhaustive-deps': 'error',
    },
  },
  {
    // Node: the configs, the Playwright test and its mock server.
    files: ['*.{js,ts}', 'e2e/**/*.{ts,mjs}', 'bench/**/*.{js,mjs,ts}'],
    languageOptions: { globals: globals.node },
  },
  {
    rules: {
      // `_`-prefixed names are deliberately unused (tsc's noUnusedLocals agrees).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
]);
