/**
 * setupFiles of vitest.mutation.config.ts (npm run mutation), not of the normal test run.
 *
 * - A property that fails under a mutant has done its job: shrinking the counterexample (which reruns whole
 *   simulations) would only cost time, so Stryker's runs stop at the first one.
 * - Each property gets at most 0.4 s per mutant: instrumented code runs the simulations several times
 *   slower, and a mutant that survives runs every property that covers it. A mutant a property catches is
 *   caught in its first runs; the full numRuns still run in `npm test`. An interrupted property passes.
 */
import fc from 'fast-check';

fc.configureGlobal({ endOnFailure: true, interruptAfterTimeLimit: 400 });
