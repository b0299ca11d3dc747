/** Helpers every planner shares: pause (cluster-api util/annotations IsPaused) and deterministic ordering. */
import { describe, expect, it } from 'vitest';
import { compareNames, isPaused, oldestFirst } from '../../../../functions/core/cluster/objects.js';
import { Annotations, cluster, machine } from './fixtures.js';

describe('isPaused', () => {
  it('the paused annotation on the Cluster pauses every object of it', () => {
    // Prepare
    const c = cluster();
    c.metadata.annotations = { [Annotations.paused]: '' };
    // Act & Assess
    expect([isPaused(c), isPaused(c, machine('m1')), isPaused(cluster(), machine('m1'))]).toEqual([true, true, false]);
  });
});

describe('ordering', () => {
  it.each([
    { a: 'a', b: 'b', sign: -1 },
    { a: 'b', b: 'a', sign: 1 },
    { a: 'a', b: 'a', sign: 0 },
  ])('compareNames($a, $b) is $sign', ({ a, b, sign }) => {
    expect(Math.sign(compareNames(machine(a), machine(b)))).toBe(sign);
  });

  it('oldest first, then by name', () => {
    // Prepare
    const young = machine('a', { age: 10 });
    const old = machine('z', { age: 1000 });
    const twin = { ...machine('b', { age: 1000 }), metadata: { ...machine('b').metadata, creationTimestamp: old.metadata.creationTimestamp } };
    // Act & Assess
    expect([young, twin, old].sort(oldestFirst).map((m) => m.metadata.name)).toEqual(['b', 'z', 'a']);
  });
});
