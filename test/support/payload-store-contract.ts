/** One contract for every PayloadStore (memory, files, S3 on moto), as the store contract does for Store. */
import { describe, expect, it } from 'vitest';
import { payloadDigest } from '../../functions/adapters/payloads/digest.js';
import { PayloadDigestError, type PayloadStore } from '../../functions/ports.js';

const bytes = (s: string) => new TextEncoder().encode(s);

export interface PayloadStoreHarness {
  store: PayloadStore;
  /** Changes the bytes kept under a digest behind the store's back (a tampered object or file). */
  tamper(digest: string, bytes: Uint8Array): Promise<void>;
}

export function runPayloadStoreContract(name: string, make: () => PayloadStoreHarness | Promise<PayloadStoreHarness>): void {
  describe(`PayloadStore contract: ${name}`, () => {
    it('gives back what was put, byte for byte, by its digest', async () => {
      const { store } = await make();
      const value = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256);
      const digest = payloadDigest(value);
      await store.put(digest, value);
      expect(await store.get(digest)).toEqual(value);
    });

    it('takes a payload larger than a DynamoDB item (1 MiB)', async () => {
      const { store } = await make();
      const value = bytes(`# calico\n${'x'.repeat(1024 * 1024)}\n`);
      const digest = payloadDigest(value);
      await store.put(digest, value);
      expect((await store.get(digest))?.length).toBe(value.length);
    });

    it('puts the same payload twice without error (content-addressed)', async () => {
      const { store } = await make();
      const value = bytes(`same ${Math.random()}`);
      const digest = payloadDigest(value);
      await store.put(digest, value);
      await store.put(digest, value);
      expect(new TextDecoder().decode(await store.get(digest))).toBe(new TextDecoder().decode(value));
    });

    it('reads a payload never put as undefined', async () => {
      const { store } = await make();
      expect(await store.get(payloadDigest(bytes(`never ${Math.random()}`)))).toBeUndefined();
    });

    it('refuses bytes that are not what the digest names, and keeps nothing', async () => {
      const { store } = await make();
      const digest = payloadDigest(bytes(`one ${Math.random()}`));
      await expect(store.put(digest, bytes('another'))).rejects.toBeInstanceOf(PayloadDigestError);
      expect(await store.get(digest)).toBeUndefined();
    });

    it('refuses a digest of another form before touching anything (it becomes a key or a file name)', async () => {
      const { store } = await make();
      for (const bad of ['sha256:../../etc/passwd', 'md5:abc', `sha256:${'A'.repeat(64)}`, ''])
        await expect(store.get(bad), bad).rejects.toBeInstanceOf(PayloadDigestError);
    });

    it('refuses on read a payload changed where it is kept', async () => {
      const { store, tamper } = await make();
      const value = bytes(`kept ${Math.random()}`);
      const digest = payloadDigest(value);
      await store.put(digest, value);
      await tamper(digest, bytes('changed'));
      await expect(store.get(digest)).rejects.toBeInstanceOf(PayloadDigestError);
    });

    it('deletes, and deleting what is absent is no error', async () => {
      const { store } = await make();
      const value = bytes(`gone ${Math.random()}`);
      const digest = payloadDigest(value);
      await store.put(digest, value);
      await store.delete(digest);
      expect(await store.get(digest)).toBeUndefined();
      await store.delete(digest);
      expect(await store.get(digest)).toBeUndefined();
    });
  });
}
