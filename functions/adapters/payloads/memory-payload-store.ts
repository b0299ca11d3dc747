import type { PayloadStore } from '../../ports.js';
import { checkDigest, checkDigestForm } from './digest.js';

/** Payloads in a Map, for unit tests and harnesses; copies in and out, so a caller cannot change what is kept. */
export class MemoryPayloadStore implements PayloadStore {
  readonly payloads = new Map<string, Uint8Array>();

  async put(digest: string, bytes: Uint8Array): Promise<void> {
    checkDigest(digest, bytes);
    this.payloads.set(digest, Uint8Array.from(bytes));
  }

  async get(digest: string): Promise<Uint8Array | undefined> {
    checkDigestForm(digest);
    const kept = this.payloads.get(digest);
    if (kept === undefined) return undefined;
    checkDigest(digest, kept);
    return Uint8Array.from(kept);
  }

  async delete(digest: string): Promise<void> {
    checkDigestForm(digest);
    this.payloads.delete(digest);
  }
}
