import { defineConfig } from 'vitest/config';

// Test files share one database per worker (workspaces keep them apart), so modules are not
// re-isolated per file: starting an embedded PostgreSQL costs seconds.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    globalSetup: ['test/global-setup.ts'],
  },
});
