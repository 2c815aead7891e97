import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Integration tests start real ZooKeeper and replica processes; 2 cores is the budget.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
