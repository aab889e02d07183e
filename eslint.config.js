// Lint: typescript-eslint's recommended rules plus the package-boundary rule from the design card:
// no package may import another package's src/ (use its public entry point, @vigil/<name>).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'packages/contract/src/generated/**', '.vigil/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@vigil/*/src/*', '@vigil/*/src'], message: 'Import the package entry point (@vigil/<name>), never its src/.' },
            { group: ['../../*/src/*', '../../../packages/*/src/*'], message: 'Cross-package relative imports are banned; depend on @vigil/<name>.' },
          ],
        },
      ],
    },
  },
);
