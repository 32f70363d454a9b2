import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the fault-injection scenarios alone, with their figures at the end.
export default defineConfig({
  test: {
    include: ['test/fault/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts', 'test/fault/ledger-setup.ts'],
  },
});
