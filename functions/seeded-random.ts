/**
 * Seeded randomness for the adapters: the simulator's instance ids and launch faults, and the draw that picks
 * the first zone of a launch (core/machine/placement.ts takes it as a SeededUnit, since core hashes nothing
 * itself). Outside functions/core because it hashes with node:crypto; deterministic all the same.
 */
import { createHash } from 'node:crypto';

/**
 * A seeded random number in [0, 1) for one key. Hash-based rather than a stream PRNG, so that a draw depends
 * only on (seed, key) and not on how many draws came before: concurrent launches, restarts and replays all
 * see the same outcome for the same machine and launch attempt.
 */
export function seededUnit(seed: number | string, key: string): number {
  const digest = createHash('sha256').update(`${seed}\u0000${key}`).digest();
  // 48 bits fit a double exactly.
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** A deterministic hex string of `length` characters for one key. */
export function seededHex(seed: number | string, key: string, length: number): string {
  return createHash('sha256').update(`${seed}\u0000${key}`).digest('hex').slice(0, length);
}
