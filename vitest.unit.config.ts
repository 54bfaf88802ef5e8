import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    reporters: ['default', ['json', { outputFile: '.vitest/unit.json' }]],
    include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
