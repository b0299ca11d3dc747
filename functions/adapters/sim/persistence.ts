import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimPersistence, SimSnapshot } from './sim-cloud.js';

/**
 * Keeps a SimCloud in one JSON file, so that the embedded host survives a restart without losing or
 * duplicating machines. Each save writes a temporary file and renames it over the old one: a crash leaves
 * either the old state or the new one, never half a file.
 */
export class JsonFileSimPersistence implements SimPersistence {
  constructor(readonly path: string) {}

  load(): SimSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    return JSON.parse(text) as SimSnapshot;
  }

  save(snapshot: SimSnapshot): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    // Process ids repeat: a leftover of an earlier process (or a link put there) is removed and the file made
    // anew, 0600 as the rest of the embedded host's data folder, never inheriting a looser mode or a target.
    rmSync(tmp, { force: true });
    writeFileSync(tmp, JSON.stringify(snapshot), { mode: 0o600, flag: 'wx' });
    renameSync(tmp, this.path);
  }
}
