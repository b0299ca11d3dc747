/** sameJson against what it replaces: the two canonical JSON strings (api/kind.ts canonicalJson) compared. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../functions/api/kind.js';
import { sameJson } from '../../../functions/core/same-json.js';

// Small domains, so that two values drawn are often the same document or differ in one place.
const leaf = fc.constantFrom<unknown>(undefined, null, 0, -0, 1, Number.NaN, Number.POSITIVE_INFINITY, '', '0', 'a', true, false, () => 1, new Date(0));
const { value } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 3 }),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'c'), tie('value'), { maxKeys: 3 }),
}));

/** The same document with its keys in another order: reversed at every level. */
function reordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reordered);
  if (v && typeof v === 'object' && !(v instanceof Date))
    return Object.fromEntries(
      Object.entries(v)
        .reverse()
        .map(([k, x]) => [k, reordered(x)]),
    );
  return v;
}

describe('sameJson', () => {
  it('says what comparing the canonical JSON of both says', () => {
    fc.assert(
      fc.property(value, value, (a, b) => {
        const plain = canonicalJson(a) === canonicalJson(b);
        expect(sameJson(a, b)).toBe(plain);
        expect(sameJson(b, a)).toBe(plain);
        expect(sameJson(a, reordered(b))).toBe(plain);
      }),
      { numRuns: 3000 },
    );
  });

  it('finds a value the same document as itself with its keys in another order', () => {
    fc.assert(
      fc.property(value, (a) => {
        expect(sameJson(a, reordered(a))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
