import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // bin/kpc runs dist/: compile once (only when stale) before any test runs it.
    globalSetup: ['./test/setup/build.ts'],
    // Kernel tests share network namespace names; run files one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/summary-reporter.ts'],
  },
});
