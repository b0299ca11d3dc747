/** Reconciliation pause (cluster-api util/paused/paused.go): why an object is paused, and its Paused condition. */
import { describe, expect, it } from 'vitest';
import { listNames, pausedBy, pausedCondition } from '../../../../functions/core/machineset/paused.js';
import { cluster, machineSet } from './fixtures.js';

describe('pausedBy', () => {
  it('without a cluster, only the paused annotation pauses an object', () => {
    expect(pausedBy(undefined, machineSet())).toEqual([]);
    expect(pausedBy(undefined, machineSet({ paused: true }))).toEqual(['MachineSet has the clusterless.dev/paused annotation']);
  });

  it('a paused cluster and the annotation are both named', () => {
    expect(pausedBy(cluster({ paused: true }), machineSet({ paused: true }))).toEqual([
      'Cluster spec.paused is set to true',
      'MachineSet has the clusterless.dev/paused annotation',
    ]);
  });
});

describe('pausedCondition', () => {
  it('is False (NotPaused) without reasons, True (Paused) with every reason in its message', () => {
    expect(pausedCondition([])).toEqual({ type: 'Paused', status: 'False', reason: 'NotPaused' });
    expect(pausedCondition(['a', 'b'])).toEqual({ type: 'Paused', status: 'True', reason: 'Paused', message: 'a, b' });
  });
});

describe('listNames', () => {
  it('lists up to three names, then says how many more', () => {
    expect(listNames(['a', 'b', 'c'])).toBe('a, b, c');
    expect(listNames(['a', 'b', 'c', 'd', 'e'])).toBe('a, b, c, ... (2 more)');
  });
});
