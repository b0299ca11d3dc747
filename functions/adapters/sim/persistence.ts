import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
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
    writeFileSync(tmp, JSON.stringify(snapshot));
    renameSync(tmp, this.path);
  }
}
