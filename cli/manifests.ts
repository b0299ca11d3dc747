/** Reading `apply -f`: files, directories or stdin; YAML with several documents, JSON, or a List. */
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { API_VERSION } from '../functions/api/common.js';
import type { ApiObject, KindDef } from '../functions/api/kind.js';
import { kindByName } from '../functions/api/kinds.js';
import { UsageError } from './errors.js';
import type { Io } from './io.js';

export interface Manifest {
  def: KindDef;
  object: ApiObject;
  /** Where it came from, for messages: `cluster.yaml (document 2)`. */
  source: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every object in a text, in order; a List's items are taken one by one, as kubectl does. */
export function parseManifests(text: string, source: string): Manifest[] {
  // core schema: YAML 1.2, so `on` and `yes` stay strings, as the API's own YAML reader has it.
  const docs = parseAllDocuments(text, { schema: 'core', uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const out: Manifest[] = [];
  list.forEach((doc, i) => {
    const where = list.length > 1 ? `${source} (document ${i + 1})` : source;
    if (doc.errors.length > 0) throw new UsageError(`${where} is not valid YAML or JSON: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS({ maxAliasCount: 50 });
    if (value === null || value === undefined) return; // an empty document, e.g. after a trailing ---
    collect(value, where, out);
  });
  return out;
}

/** Adds the object (or each item of a List) to `out`, refusing what the API does not serve. */
export function collect(value: unknown, where: string, out: Manifest[]): void {
  if (!isObject(value)) throw new UsageError(`${where} must hold objects, not ${Array.isArray(value) ? 'an array' : typeof value}`);
  const kind = value['kind'];
  if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(value['items'])) {
    for (const [j, item] of value['items'].entries()) collect(item, `${where} items[${j}]`, out);
    return;
  }
  const apiVersion = value['apiVersion'];
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') throw new UsageError(`${where}: an object needs apiVersion and kind`);
  const def = kindByName(kind);
  if (apiVersion !== API_VERSION || !def) throw new UsageError(`${where}: no kind "${kind}" in version "${apiVersion}" (clusterless serves ${API_VERSION})`);
  const meta = value['metadata'];
  if (!isObject(meta) || typeof meta['name'] !== 'string' || meta['name'] === '') throw new UsageError(`${where}: the ${kind} has no metadata.name`);
  out.push({ def, object: value as unknown as ApiObject, source: where });
}

/** A text read from behind `-f`, with where it came from. */
export interface Source {
  text: string;
  source: string;
}

/** Reads every text behind `-f` values: files, directories (their .yaml, .yml and .json files) or `-`. */
export async function readSources(paths: readonly string[], io: Io): Promise<Source[]> {
  const out: Source[] = [];
  for (const path of paths) {
    if (path === '-') {
      out.push({ text: await io.readStdin(), source: 'stdin' });
      continue;
    }
    const entries = await io.listDir(path).catch((err: unknown) => {
      throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    });
    const files = entries
      ? entries
          .filter((f) => /\.(ya?ml|json)$/.test(f))
          .sort()
          .map((f) => join(path, f))
      : [path];
    for (const file of files) {
      try {
        out.push({ text: await io.readFile(file), source: file });
      } catch (err) {
        throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }
  }
  return out;
}

/** Reads every manifest behind `-f` values. */
export async function readManifests(paths: readonly string[], io: Io): Promise<Manifest[]> {
  const out = (await readSources(paths, io)).flatMap((s) => parseManifests(s.text, s.source));
  if (out.length === 0) throw new UsageError(`no objects found in ${paths.join(', ')}`);
  return out;
}
