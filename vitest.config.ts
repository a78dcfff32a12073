import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // Two cores: many tests start worker processes of their own.
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: ['test/**/*.timing.test.ts'], maxWorkers: 2 },
      },
      {
        extends: true,
        // Tests that judge timing at a fake (rate limits) run last and alone, so that other
        // test files' CPU load does not show up as provider-side jitter.
        test: { name: 'timing', include: ['test/**/*.timing.test.ts'], maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
