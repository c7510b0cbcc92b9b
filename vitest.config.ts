import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Process-level tests start real servers; two cores are shared, so keep file parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
