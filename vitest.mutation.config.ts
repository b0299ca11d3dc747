import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The simulations last: with Stryker's bail, a mutant that a quick unit test catches never pays for a
 * simulation; only the mutants the unit tests miss run the properties.
 */
class SimulationsLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const isSimulation = (f: TestSpecification) => f.moduleId.endsWith('simulation.test.ts');
    return [...sorted.filter((f) => !isSimulation(f)), ...sorted.filter(isSimulation)];
  }
}

// Stryker's test run (npm run mutation): only the pure core's unit tests, which need no emulators, so no
// globalSetup (moto, bootstrap tools) is started for every mutant.
export default defineConfig({
  test: {
    include: ['test/unit/core/**/*.test.ts'],
    setupFiles: ['test/support/mutation-setup.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    // Stryker reruns the covering test files for every mutant: one worker reused across files (the core is pure,
    // it keeps no module state between tests) saves a process and a module graph per file per mutant.
    isolate: false,
    // Stryker tells tests apart by name: it.each titles must not be cut to 40 characters, or the cases that
    // share a prefix become one test and a mutant is run against the wrong ones.
    taskTitleValueFormatTruncate: 1000,
    sequence: { hooks: 'stack', sequencer: SimulationsLast },
  },
});
