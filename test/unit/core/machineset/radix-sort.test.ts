/** sortWholeNumbers: the deletion order's sort of packed keys, held to the built-in numeric sort. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortWholeNumbers } from '../../../../functions/core/machineset/radix-sort.js';

/** The built-in sort's answer, on a copy. */
function sorted(values: readonly number[]): number[] {
  return [...Float64Array.from(values).sort()];
}

/** Whole numbers across the packed keys' range, with the low and high halves both in use. */
const wholeNumber = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  fc.maxSafeNat(),
  fc.integer({ min: 0, max: 2 ** 21 - 1 }).map((high) => high * 2 ** 32 + (2 ** 32 - 1)),
);

describe('sortWholeNumbers', () => {
  it('sorts whole numbers as the built-in sort does, above and below the length where it switches to the radix sort', () => {
    fc.assert(
      fc.property(fc.array(wholeNumber, { minLength: 0, maxLength: 3000, size: 'max' }), (values) => {
        // Prepare
        const array = Float64Array.from(values);
        // Act
        sortWholeNumbers(array);
        // Assess: the first place it differs (a whole-array diff of a failing case would slow fast-check's shrinking)
        const want = sorted(values);
        const at = want.findIndex((v, i) => !Object.is(array[i], v));
        expect(at === -1 ? 'same' : `differs at ${at}: ${array[at]} for ${want[at]}`).toBe('same');
      }),
      // No shrinking: a failing array of thousands of numbers takes minutes to shrink, and the message names the place.
      { numRuns: 150, endOnFailure: true },
    );
  });

  it('sorts packed keys as PolicyQueue makes them: a 32-bit hash times a power of two, plus the position', () => {
    // Prepare: 8,334 keys, as one failure domain's queue of a 50,000-machine scale-down holds
    const scale = 2 ** 14;
    const values = Array.from({ length: 8334 }, (_, i) => (((i * 2654435761) >>> 0) % 2 ** 32) * scale + i);
    const array = Float64Array.from(values);
    // Act
    sortWholeNumbers(array);
    // Assess
    expect([...array]).toEqual(sorted(values));
  });

  it.each([
    { name: 'a fraction', odd: 0.5 },
    { name: 'a negative number', odd: -3 },
    { name: 'NaN', odd: Number.NaN },
    { name: '2^53', odd: 2 ** 53 },
  ])('sorts a long array holding $name as the built-in sort does', ({ odd }) => {
    // Prepare: a long array (the radix sort's length) with one number it cannot take
    const values = Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 2000) * 1000);
    values[1234] = odd;
    const array = Float64Array.from(values);
    // Act
    sortWholeNumbers(array);
    // Assess
    expect([...array]).toEqual(sorted(values));
  });
});
