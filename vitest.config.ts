import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Socket tests bind real ports and spawn processes: a generous per-test deadline, never a sleep.
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
