/** Machine names: the MachineSet's name and a 5-character suffix, within Kubernetes' 63 characters. */
import { describe, expect, it } from 'vitest';
import { machineName } from '../../../../functions/core/machineset/machine-names.js';
import { T0, machineSet } from './fixtures.js';

describe('machineName', () => {
  it("cuts a long MachineSet name to fit 63 characters, without the dashes the cut leaves at the prefix's end", () => {
    // Prepare: the cut at 57 characters falls just after a run of dashes.
    const ms = machineSet({ name: `${'a'.repeat(55)}--${'b'.repeat(6)}` });
    // Act & Assess
    expect(machineName(ms, T0, 0)).toMatch(/^a{55}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });
});
