import { defineConfig } from 'vitest/config';

const shared = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks',
  sequence: { hooks: 'stack' },
  setupFiles: ['test/support/cpu-log.ts'],
} as const;

/**
 * Files that start many real processes (etcd, kube-apiserver, the whole emulated account) or that measure a run under
 * chaos: they run one at a time, after the rest, so that the other files' load never starves them. Their neighbours
 * that start nothing (the file secret store, the binaries' cache check, the soak's own hooks and invariant checks)
 * run with `integration`.
 */
const ALONE = [
  'test/integration/process/control-plane-etcd.test.ts',
  'test/integration/process/embedded-host-process.test.ts',
  'test/integration/process/process-provider*.test.ts',
  'test/e2e-aws/account.test.ts',
  'test/soak/soak.test.ts',
];

// One project per kind of test. `unit` runs in process and starts no emulator (`npm run test:unit`); the others
// start the real components they need and share one moto_server, started by their globalSetup. `unit` and
// `integration` run two files at a time (the machine has two cores, and most files wait on processes they started);
// `alone` runs its files one at a time once those are done.
const integration = {
  ...shared,
  exclude: ['test/unit/**', '**/node_modules/**'],
  globalSetup: ['test/support/tools-path.ts', 'test/support/global-setup.ts'],
};
export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/unit/**/*.test.ts'], globalSetup: ['test/support/tools-path.ts'], maxWorkers: 2 } },
      {
        test: { ...integration, name: 'integration', include: ['test/**/*.test.ts'], exclude: [...integration.exclude, ...ALONE], maxWorkers: 2 },
      },
      { test: { ...integration, name: 'alone', include: ALONE, maxWorkers: 1, sequence: { ...shared.sequence, groupOrder: 1 } } },
    ],
  },
});
