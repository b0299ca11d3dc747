import { defineConfig } from 'vitest/config';

// One project per kind of test; integration tests share the emulators started in globalSetup.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    sequence: { hooks: 'stack' },
  },
});
