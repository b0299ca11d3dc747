/** A MachineSet's selector against machine labels (apimachinery's LabelSelector). */
import { describe, expect, it } from 'vitest';
import { compileSelector } from '../../../../functions/core/machineset/selector.js';

describe('compileSelector', () => {
  it('matches with matchExpressions', () => {
    const matches = compileSelector({ matchExpressions: [{ key: 'role', operator: 'In', values: ['worker'] }] });
    expect([matches({ role: 'worker' }), matches({ role: 'db' }), matches({})]).toEqual([true, false, false]);
  });

  it('machines without labels match no matchLabels', () => {
    expect(compileSelector({ matchLabels: { role: 'worker' } })(undefined)).toBe(false);
  });
});
