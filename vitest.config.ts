import { defineConfig } from 'vitest/config';

const shared = {
  testTimeout: 60_000,
  hookTimeout: 120_000,
  pool: 'forks' as const,
  sequence: { hooks: 'stack' as const },
  // CLUSTERLESS_TEST_CPU_LOG=FILE: each file's CPU time (test/support/cpu-log.ts).
  setupFiles: ['test/support/cpu-log.ts'],
};

/**
 * Files that start many real processes (etcd, kube-apiserver, the whole emulated account) or that measure a run under
 * chaos: they run after the rest, two at a time, so that the other files' load never starves them. Two, not one: the
 * real control plane (control-plane-etcd) mostly waits (66 s of CPU in 254 s), while the emulated account keeps more
 * than a core busy; one at a time they took 680 s. Their neighbours that start nothing (the file secret store, the
 * binaries' cache check, the soak's own hooks and invariant checks) run with `integration`.
 */
const ALONE = [
  'test/integration/process/control-plane-etcd.test.ts',
  'test/integration/process/embedded-host-process.test.ts',
  'test/integration/process/process-provider*.test.ts',
  'test/e2e-aws/account.test.ts',
  'test/soak/soak.test.ts',
];

const INFRA = ['test/infra/**/*.test.ts'];
const UNIT_ISOLATED = ['test/unit/http/nesting.test.ts'];

// One project per kind of test. `unit` runs in process and starts no emulator (`npm run test:unit`); the others
// start the real components they need and share one moto_server, started by their globalSetup. `unit` and
// `integration` run two files at a time (the machine has two cores, and most files wait on processes they started);
// `alone` runs its files two at a time once those are done (CLUSTERLESS_TEST_CPU_LOG gives each file's CPU time).
const integration = {
  ...shared,
  exclude: ['test/unit/**', '**/node_modules/**'],
  globalSetup: ['test/support/tools-path.ts', 'test/support/global-setup.ts'],
};
const unit = { ...shared, globalSetup: ['test/support/tools-path.ts'], maxWorkers: 2 };
export default defineConfig({
  test: {
    projects: [
      // Unit files share one process per worker: a fresh process per file cost more CPU than most files' tests (the
      // project took 174 s of CPU that way, 98 s shared). A file that mocks a module keeps a process of its own, so
      // that its mock reaches no other file.
      { test: { ...unit, name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: [...UNIT_ISOLATED, '**/node_modules/**'], isolate: false } },
      { test: { ...unit, name: 'unit-isolated', include: UNIT_ISOLATED } },
      // The CDK app's tests synthesize it and start nothing: one process per worker serves them all, so CDK's modules
      // are loaded and warmed once per worker rather than once per file (a first synthesis costs about 9 s of CPU, a
      // second one 2 s).
      { test: { ...integration, name: 'infra', include: INFRA, isolate: false, maxWorkers: 2 } },
      {
        test: {
          ...integration,
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: [...integration.exclude, ...ALONE, ...INFRA],
          maxWorkers: 2,
        },
      },
      { test: { ...integration, name: 'alone', include: ALONE, maxWorkers: 2, sequence: { ...shared.sequence, groupOrder: 1 } } },
    ],
  },
});
