/** A SecretStore in memory, for tests and hosts without Secrets Manager; it behaves as the Secrets Manager one does. */
import { TagKeys } from '../aws/tags.js';
import type { SecretStore } from '../../ports.js';

export interface MemorySecretStoreOptions {
  /** Tagged on every secret created, as the Secrets Manager store does. @default - no installation tag */
  installationId?: string;
}

export class MemorySecretStore implements SecretStore {
  private readonly values = new Map<string, { value: Uint8Array; tags: Record<string, string> }>();
  private readonly installationTag: Record<string, string>;

  constructor(options: MemorySecretStoreOptions = {}) {
    this.installationTag = options.installationId !== undefined ? { [TagKeys.installation]: options.installationId } : {};
  }

  async create(name: string, value: Uint8Array, tags: Record<string, string> = {}): Promise<boolean> {
    if (this.values.has(name)) return false;
    this.values.set(name, { value: Uint8Array.from(value), tags: { ...tags, ...this.installationTag } });
    return true;
  }

  async put(name: string, value: Uint8Array, tags: Record<string, string> = {}): Promise<void> {
    const old = this.values.get(name);
    this.values.set(name, { value: Uint8Array.from(value), tags: old?.tags ?? { ...tags, ...this.installationTag } });
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const v = this.values.get(name);
    return v && Uint8Array.from(v.value);
  }

  async delete(name: string): Promise<void> {
    this.values.delete(name);
  }

  async tag(name: string, tags: Record<string, string>): Promise<void> {
    const v = this.values.get(name);
    if (v) v.tags = { ...v.tags, ...tags };
  }

  /** The names held now (tests). */
  names(): string[] {
    return [...this.values.keys()].sort();
  }

  /** A secret's tags, or undefined when it does not exist (tests). */
  tagsOf(name: string): Record<string, string> | undefined {
    const v = this.values.get(name);
    return v && { ...v.tags };
  }
}
