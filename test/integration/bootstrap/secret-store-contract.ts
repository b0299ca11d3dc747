/** One contract for every SecretStore (memory, Secrets Manager on moto), as the store contract does for Store. */
import { describe, expect, it } from 'vitest';
import type { SecretStore } from '../../../functions/ports.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

export function secretStoreContract(name: string, make: () => { store: SecretStore; prefix: string }): void {
  describe(`SecretStore contract: ${name}`, () => {
    it('creates a secret once: a second create leaves the first value', async () => {
      const { store, prefix } = make();
      expect(await store.create(`${prefix}/certificates`, bytes('first'), { 'clusterless.dev/cluster': 'default/demo' })).toBe(true);
      expect(await store.create(`${prefix}/certificates`, bytes('second'))).toBe(false);
      expect(text(await store.get(`${prefix}/certificates`))).toBe('first');
    });

    it('puts a value whether or not the secret exists', async () => {
      const { store, prefix } = make();
      await store.put(`${prefix}/machines/a`, bytes('one'));
      await store.put(`${prefix}/machines/a`, bytes('two'));
      expect(text(await store.get(`${prefix}/machines/a`))).toBe('two');
    });

    it('keeps binary values byte for byte', async () => {
      const { store, prefix } = make();
      const value = Uint8Array.from({ length: 256 }, (_, i) => i);
      await store.put(`${prefix}/machines/bin`, value);
      expect(await store.get(`${prefix}/machines/bin`)).toEqual(value);
    });

    it('reads a missing secret as undefined', async () => {
      const { store, prefix } = make();
      expect(await store.get(`${prefix}/machines/never`)).toBeUndefined();
    });

    it('deletes at once (the name can be used again), and deleting what is gone is no error', async () => {
      const { store, prefix } = make();
      await store.put(`${prefix}/machines/b`, bytes('x'));
      await store.delete(`${prefix}/machines/b`);
      expect(await store.get(`${prefix}/machines/b`)).toBeUndefined();
      await store.delete(`${prefix}/machines/b`);
      expect(await store.create(`${prefix}/machines/b`, bytes('again'))).toBe(true);
      expect(text(await store.get(`${prefix}/machines/b`))).toBe('again');
    });
  });
}
