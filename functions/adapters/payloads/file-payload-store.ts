import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PayloadStore } from '../../ports.js';
import { checkDigest, checkDigestForm, digestHex } from './digest.js';

/**
 * Payloads as files in the embedded host's data folder: `<dir>/sha256/<hex>`, folders 0700 and files 0600 like the
 * rest of the folder. A put writes a temporary file and renames it, so a reader never sees half a payload and a
 * crash leaves at most a temporary file.
 */
export class FilePayloadStore implements PayloadStore {
  constructor(private readonly dir: string) {}

  private pathOf(digest: string): string {
    checkDigestForm(digest);
    return join(this.dir, 'sha256', digestHex(digest));
  }

  async put(digest: string, bytes: Uint8Array): Promise<void> {
    checkDigest(digest, bytes);
    const path = this.pathOf(digest);
    await mkdir(join(this.dir, 'sha256'), { recursive: true, mode: 0o700 });
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, bytes, { mode: 0o600, flag: 'wx' });
    await rename(temporary, path);
  }

  async get(digest: string): Promise<Uint8Array | undefined> {
    const path = this.pathOf(digest);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    checkDigest(digest, bytes);
    return bytes;
  }

  async delete(digest: string): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }
}
