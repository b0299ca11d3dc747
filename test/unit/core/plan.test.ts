/** Plans merged from several planners: every write, action and note in order, and the earliest requeue. */
import { describe, expect, it } from 'vitest';
import { emptyPlan, mergePlans } from '../../../functions/core/plan.js';

describe('mergePlans', () => {
  it('keeps the earliest requeue, whatever order the plans come in, and ignores plans that ask none', () => {
    const asking = (s: number) => ({ ...emptyPlan(), requeueAfterSeconds: s });
    expect([
      mergePlans(asking(5), asking(3), emptyPlan()).requeueAfterSeconds,
      mergePlans(asking(3), asking(5)).requeueAfterSeconds,
      mergePlans(emptyPlan()).requeueAfterSeconds,
    ]).toEqual([3, 3, undefined]);
  });
});
