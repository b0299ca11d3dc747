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

  it('merges a plan of 200,000 writes, actions and notes, in order', () => {
    // Prepare: a MachineSet of 200,000 machines scaled to zero plans 200,000 Delete writes
    const many = 200_000;
    const big = emptyPlan();
    for (let i = 0; i < many; i++) {
      big.writes.push({ type: 'Delete', ref: { kind: 'Machine', namespace: 'default', name: `m${i}` }, reason: 'scale down' });
      big.actions.push({ type: 'LaunchInstance', machine: { kind: 'Machine', namespace: 'default', name: `m${i}` } });
      big.notes.push(`note ${i}`);
    }
    const first = { ...emptyPlan(), notes: ['first'] };
    // Act
    const merged = mergePlans(first, big);
    // Assess
    expect([merged.writes.length, merged.actions.length, merged.notes.length]).toEqual([many, many, many + 1]);
    expect([merged.notes[0], merged.notes[many], merged.writes[many - 1]]).toEqual(['first', `note ${many - 1}`, big.writes[many - 1]]);
  });

  it('hands out lists of its own: changing them leaves the plans merged as they were', () => {
    // Prepare: one plan alone, whose lists a merge could have handed on as they are
    const only = {
      writes: [{ type: 'Delete' as const, ref: { kind: 'Machine' as const, namespace: 'default', name: 'm1' }, reason: 'scale down' }],
      actions: [],
      notes: ['one'],
    };
    // Act
    const merged = mergePlans(only);
    merged.writes.pop();
    merged.notes.push('two');
    // Assess
    expect([only.writes.length, only.notes]).toEqual([1, ['one']]);
  });
});
