import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests share one Postgres and one nats-server; each file uses its own schema/stream names,
    // but running files one at a time keeps a 2-core machine from turning timing into flakiness.
    fileParallelism: false,
    globalSetup: ['tests/support/global-setup.ts'],
  },
});
