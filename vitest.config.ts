import { defineConfig } from 'vitest/config';

/**
 * Projects: pure unit tests; store tests (each file loops over both dialects);
 * the integration suite twice, once per store; and the scale-out tests
 * (several processes, PostgreSQL restarts), which `npm test` runs on their own
 * afterwards because they disturb the shared PostgreSQL server.
 */
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Integration tests start real servers and child processes; the machine has 2 cores.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'store', include: ['test/store/**/*.test.ts'] } },
      // The built `herald` binary against real Heralds (run `npm run build` first).
      { extends: true, test: { name: 'cli', include: ['test/cli/**/*.test.ts'], testTimeout: 60_000 } },
      {
        extends: true,
        test: { name: 'sqlite', include: ['test/integration/**/*.test.ts'], env: { HERALD_TEST_DIALECT: 'sqlite' } },
      },
      {
        extends: true,
        test: { name: 'postgres', include: ['test/integration/**/*.test.ts'], env: { HERALD_TEST_DIALECT: 'postgres' } },
      },
      { extends: true, test: { name: 'scale-out', include: ['test/scale-out/**/*.test.ts'], fileParallelism: false } },
      // The dashboard in a real (headless) Chromium, one file at a time: a browser per file is enough for 2 cores.
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], fileParallelism: false } },
    ],
  },
});
