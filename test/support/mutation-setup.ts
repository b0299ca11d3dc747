/**
 * setupFiles of vitest.mutation.config.ts. A property that fails under a mutant has done its job: shrinking the
 * counterexample (which reruns whole simulations) would only cost time, so Stryker's runs stop at the first one.
 */
import fc from 'fast-check';

fc.configureGlobal({ endOnFailure: true });
