/**
 * Sorting the deletion order's packed keys (deletion-order.ts PolicyQueue: whole numbers from 0 to 2^53) in
 * ascending order. V8 sorts a Float64Array of 8,000 numbers in about 0.7 ms on this project's machine; a scale-down
 * of a 50,000-machine set sorts three of them per reconcile (BENCHMARKS.md, plan-50k). A least-significant-digit
 * radix sort of the numbers as two 32-bit halves does it in a few linear passes.
 */

/** Below this many numbers the built-in sort is faster (measured: even at 2,000, 1.7x slower at 300). */
const RADIX_MIN = 1024;
const DIGIT_BITS = 11;
const BUCKETS = 1 << DIGIT_BITS;
const TWO_32 = 2 ** 32;

/**
 * Sorts `a` in place, ascending. Every number must be a whole number in [0, 2^53) (what PolicyQueue packs); anything
 * else (a fraction, a negative number, NaN) is sorted by the built-in sort instead, so the result is the same.
 */
export function sortWholeNumbers(a: Float64Array): void {
  const n = a.length;
  if (n < RADIX_MIN) {
    a.sort();
    return;
  }
  const lo = new Uint32Array(n);
  const hi = new Uint32Array(n);
  let orLo = 0;
  let orHi = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i]!;
    if (!(v >= 0 && v < 2 ** 53 && Number.isInteger(v))) {
      a.sort();
      return;
    }
    const h = Math.floor(v / TWO_32);
    hi[i] = h;
    lo[i] = v - h * TWO_32;
    orLo |= lo[i]!;
    orHi |= h;
  }
  // Passes over the low half, then the high half; a digit every number has as 0 (the bits no number sets) is skipped.
  let fromLo = lo;
  let fromHi = hi;
  let toLo = new Uint32Array(n);
  let toHi = new Uint32Array(n);
  const count = new Uint32Array(BUCKETS);
  for (let half = 0; half < 2; half++) {
    const bits = half === 0 ? orLo >>> 0 : orHi >>> 0;
    for (let shift = 0; shift < 32 && bits >>> shift !== 0; shift += DIGIT_BITS) {
      if (((bits >>> shift) & (BUCKETS - 1)) === 0) continue;
      const digits = half === 0 ? fromLo : fromHi;
      count.fill(0);
      for (let i = 0; i < n; i++) count[(digits[i]! >>> shift) & (BUCKETS - 1)]!++;
      let sum = 0;
      for (let b = 0; b < BUCKETS; b++) {
        const c = count[b]!;
        count[b] = sum;
        sum += c;
      }
      for (let i = 0; i < n; i++) {
        const at = count[(digits[i]! >>> shift) & (BUCKETS - 1)]!++;
        toLo[at] = fromLo[i]!;
        toHi[at] = fromHi[i]!;
      }
      [fromLo, toLo] = [toLo, fromLo];
      [fromHi, toHi] = [toHi, fromHi];
    }
  }
  for (let i = 0; i < n; i++) a[i] = fromHi[i]! * TWO_32 + fromLo[i]!;
}
