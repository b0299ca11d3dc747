import { defineConfig } from 'vitest/config';

const shared = { testTimeout: 60_000, hookTimeout: 120_000, pool: 'forks', sequence: { hooks: 'stack' } } as const;

// One project per kind of test. `unit` runs in process and starts no emulator (`npm run test:unit`); the others
// start the real components they need and share one moto_server, started by their globalSetup.
export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/support/tools-path.ts'] } },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**', '**/node_modules/**'],
          globalSetup: ['test/support/tools-path.ts', 'test/support/global-setup.ts'],
        },
      },
    ],
  },
});
