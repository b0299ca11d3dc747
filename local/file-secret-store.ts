/**
 * A SecretStore in files, for the embedded host's kubeadm bootstrap of process clusters: one file per secret in
 * `<dataDir>/secrets/`, named by the SHA-256 of the secret's name (names hold slashes), mode 0600 in a 0700
 * folder, written to a temporary file and renamed so a crash leaves the old value or the new one. It behaves as the
 * memory and Secrets Manager stores do (test/support/secret-store-contract.ts). Not encrypted: the data folder is
 * private to the user (data-dir.ts), as the embedded DynamoDB beside it is.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TagKeys } from '../functions/adapters/aws/tags.js';
import type { SecretStore } from '../functions/ports.js';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './data-dir.js';

interface SecretFile {
  name: string;
  /** base64 */
  value: string;
  tags: Record<string, string>;
}

export interface FileSecretStoreOptions {
  /** The folder (made 0700 when missing). */
  dir: string;
  /** Tagged on every secret created, as the Secrets Manager store does. @default - no installation tag */
  installationId?: string;
}

export class FileSecretStore implements SecretStore {
  private readonly installationTag: Record<string, string>;
  /** Writes of one secret in this process, one after another (create must see a put that raced it). */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly options: FileSecretStoreOptions) {
    this.installationTag = options.installationId !== undefined ? { [TagKeys.installation]: options.installationId } : {};
  }

  async create(name: string, value: Uint8Array, tags: Record<string, string> = {}): Promise<boolean> {
    return this.serial(name, async () => {
      if (await this.read(name)) return false;
      await this.write({ name, value: Buffer.from(value).toString('base64'), tags: { ...tags, ...this.installationTag } });
      return true;
    });
  }

  async put(name: string, value: Uint8Array, tags: Record<string, string> = {}): Promise<void> {
    await this.serial(name, async () => {
      const old = await this.read(name);
      await this.write({ name, value: Buffer.from(value).toString('base64'), tags: old?.tags ?? { ...tags, ...this.installationTag } });
    });
  }

  async get(name: string): Promise<Uint8Array | undefined> {
    const f = await this.read(name);
    return f && new Uint8Array(Buffer.from(f.value, 'base64'));
  }

  async delete(name: string): Promise<void> {
    await this.serial(name, () =>
      unlink(this.pathOf(name)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      }),
    );
  }

  async tag(name: string, tags: Record<string, string>): Promise<void> {
    await this.serial(name, async () => {
      const f = await this.read(name);
      if (f) await this.write({ ...f, tags: { ...f.tags, ...tags } });
    });
  }

  /** A secret's tags, or undefined when it does not exist (tests). */
  async tagsOf(name: string): Promise<Record<string, string> | undefined> {
    return (await this.read(name))?.tags;
  }

  private pathOf(name: string): string {
    return join(this.options.dir, `${createHash('sha256').update(name).digest('hex')}.json`);
  }

  private async read(name: string): Promise<SecretFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.pathOf(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const f = JSON.parse(text) as SecretFile;
    // Two names with one hash would be a broken SHA-256; refuse rather than hand out another secret.
    if (f.name !== name) throw new Error(`the secret file of ${name} holds ${f.name}`);
    return f;
  }

  private async write(f: SecretFile): Promise<void> {
    await mkdir(this.options.dir, { recursive: true, mode: PRIVATE_DIR_MODE });
    const path = this.pathOf(f.name);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, PRIVATE_FILE_MODE);
    try {
      await handle.writeFile(JSON.stringify(f));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  }

  private serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const next = (this.queues.get(name) ?? Promise.resolve()).then(fn, fn);
    const settled = next.catch(() => {});
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return next;
  }
}
