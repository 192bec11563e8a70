import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 600_000,
    pool: 'forks',
    // the slow tier (qemu boots) must run one at a time; fileParallelism stays on for the rest
    reporters: ['default'],
  },
});
