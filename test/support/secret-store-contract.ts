/** One contract for every SecretStore (memory, Secrets Manager on moto), as the store contract does for Store. */
import { describe, expect, it } from 'vitest';
import type { SecretStore } from '../../functions/ports.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => (b === undefined ? undefined : new TextDecoder().decode(b));

export interface SecretStoreHarness {
  store: SecretStore;
  prefix: string;
  /** The installation the store was made for. */
  installationId: string;
  /** A secret's tags as the backing service keeps them. */
  tagsOf(name: string): Promise<Record<string, string> | undefined>;
}

export function secretStoreContract(name: string, make: () => SecretStoreHarness): void {
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

    it("tags every secret it creates with its installation, which the caller's tags cannot change", async () => {
      const { store, prefix, installationId, tagsOf } = make();
      await store.create(`${prefix}/certificates`, bytes('c'), { 'clusterless.dev/cluster': 'default/demo', 'clusterless.dev/installation': 'another' });
      await store.put(`${prefix}/machines/c`, bytes('m'), { 'clusterless.dev/machine-uid': 'uid-c' });
      expect(await tagsOf(`${prefix}/certificates`)).toEqual({ 'clusterless.dev/cluster': 'default/demo', 'clusterless.dev/installation': installationId });
      expect(await tagsOf(`${prefix}/machines/c`)).toEqual({ 'clusterless.dev/machine-uid': 'uid-c', 'clusterless.dev/installation': installationId });
    });

    it('adds tags to a secret, keeping the others; tagging a secret that is gone is no error', async () => {
      const { store, prefix, installationId, tagsOf } = make();
      await store.put(`${prefix}/machines/d`, bytes('m'), { 'clusterless.dev/machine-uid': 'uid-d' });
      await store.tag(`${prefix}/machines/d`, { 'clusterless.dev/instance-arn': 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0' });
      expect(await tagsOf(`${prefix}/machines/d`)).toEqual({
        'clusterless.dev/machine-uid': 'uid-d',
        'clusterless.dev/installation': installationId,
        'clusterless.dev/instance-arn': 'arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0',
      });
      await store.delete(`${prefix}/machines/d`);
      await expect(store.tag(`${prefix}/machines/d`, { 'clusterless.dev/instance-arn': 'x' })).resolves.toBeUndefined();
      await expect(store.tag(`${prefix}/machines/never`, { 'clusterless.dev/instance-arn': 'x' })).resolves.toBeUndefined();
    });
  });
}
