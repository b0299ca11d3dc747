/** A SecretStore in memory, for tests and hosts without Secrets Manager; it behaves as the Secrets Manager one does. */
import type { SecretStore } from '../../ports.js';

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, { value: Uint8Array; tags: Record<string, string> }>();

  async create(name: string, value: Uint8Array, tags: Record<string, string> = {}): Promise<boolean> {
    if (this.values.has(name)) return false;
    this.values.set(name, { value: Uint8Array.from(value), tags: { ...tags } });
    return true;
  }

  async put(name: string, value: Uint8Array, tags: Record<string, string> = {}): Promise<void> {
    const old = this.values.get(name);
    this.values.set(name, { value: Uint8Array.from(value), tags: old?.tags ?? { ...tags } });
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const v = this.values.get(name);
    return v && Uint8Array.from(v.value);
  }

  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }

  /** The names held now (tests). */
  names(): string[] {
    return [...this.values.keys()].sort();
  }
}
