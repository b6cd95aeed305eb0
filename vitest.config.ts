import { defineConfig } from 'vitest/config';

// Test files run one at a time: each process starts the CPU thread pool, and two pools on a
// 2-core machine would time each other out rather than test anything.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
