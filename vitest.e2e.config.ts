import { defineConfig } from 'vitest/config';

// End-to-end suites share one test bed (started once in global-setup) and run one file at a time.
export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.vitest/e2e.json' }]],
    include: ['test/e2e/**/*.e2e.test.ts'],
    globalSetup: ['test/e2e/global-setup.ts'],
    setupFiles: ['test/e2e/failure-logs.ts', 'test/e2e/fresh-aws.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 300_000,
  },
});
