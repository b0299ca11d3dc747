/**
 * Deterministic hashing for names and for the pseudo-random deletion order. Plans must be reproducible
 * (functions/core never calls Math.random), so "random" here means a stable hash of a stable input.
 */

/** 32-bit FNV-1a of the UTF-16 code units of `s`. */
export function fnv1a32(s: string, offsetBasis = 0x811c9dc5): number {
  let h = offsetBasis >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The alphabet Kubernetes uses for generated name suffixes (apimachinery util/rand): no vowels, so no
 * words, and no characters that look alike (0/o, 1/l).
 */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** `length` characters of the safe alphabet taken from `n` (least significant digit first). */
export function safeEncode(n: number, length: number): string {
  let out = '';
  let v = n >>> 0;
  for (let i = 0; i < length; i++) {
    out += SAFE_ALPHABET[v % SAFE_ALPHABET.length];
    v = Math.floor(v / SAFE_ALPHABET.length);
  }
  return out;
}

/**
 * A 10-character hash of a string, about 47 bits: two FNV-1a hashes with different offset bases, so that
 * MachineSet names of different templates practically never collide.
 */
export function shortHash(s: string): string {
  return safeEncode(fnv1a32(s), 7) + safeEncode(fnv1a32(s, 0x050c5d1f), 3);
}
