/** A MachineSet's selector against machine labels (apimachinery's LabelSelector). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compileHasAll, compileSelector } from '../../../../functions/core/machineset/selector.js';

describe('compileSelector', () => {
  it('matches with matchExpressions', () => {
    const matches = compileSelector({ matchExpressions: [{ key: 'role', operator: 'In', values: ['worker'] }] });
    expect([matches({ role: 'worker' }), matches({ role: 'db' }), matches({})]).toEqual([true, false, false]);
  });

  it('machines without labels match no matchLabels', () => {
    expect(compileSelector({ matchLabels: { role: 'worker' } })(undefined)).toBe(false);
  });
});

describe('compileHasAll', () => {
  // The reads written out one per key (up to eight, a loop beyond) against the plain loop, for 0 to 11 keys.
  const key = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l');
  const value = fc.constantFrom('x', 'y');
  const plain = (keys: string[], values: string[], m: Record<string, string> | undefined) =>
    m === undefined ? keys.length === 0 : keys.every((k, i) => m[k] === values[i]);

  it('answers as the plain loop over the keys does, for every number of keys', () => {
    fc.assert(
      fc.property(
        fc
          .uniqueArray(key, { maxLength: 11 })
          .chain((keys) => fc.tuple(fc.constant(keys), fc.array(value, { minLength: keys.length, maxLength: keys.length }))),
        fc.option(fc.dictionary(key, value), { nil: undefined }),
        ([keys, values], map) => {
          // A map that has every pair but perhaps the last, so that the last read decides.
          const near = { ...map, ...Object.fromEntries(keys.slice(0, -1).map((k, i) => [k, values[i]!])) };
          const hasAll = compileHasAll(keys, values);
          for (const m of [map, near, Object.fromEntries(keys.map((k, i) => [k, values[i]!]))]) expect(hasAll(m)).toBe(plain(keys, values, m));
        },
      ),
      { numRuns: 500 },
    );
  });
});
