/**
 * `convert -f FILE`: Cluster API manifests (clusterctl's output) as clusterless objects on stdout, every field
 * left behind as a `warning:` line on stderr. `apply -f` takes such files too, through `readApplicable`.
 */
import { Document, parseAllDocuments } from 'yaml';
import { convertClusterApi, formatIssue, isClusterApiDocument, type ConversionResult } from '../../functions/api/capi/convert.js';
import type { Context } from '../context.js';
import { AlreadyReported, ExitCode, UsageError } from '../errors.js';
import { collect, parseManifests, readSources, type Manifest, type Source } from '../manifests.js';
import { DEFAULT_IMAGE_SSM_PARAMETER } from './generate.js';

import { CONVERT_OUTPUT_FORMATS } from '../format/output-formats.js';

export { CONVERT_OUTPUT_FORMATS };

export interface ConvertOptions {
  filename: string[];
  output?: string;
}

/** The documents of the texts, a List's items taken one by one as kubectl does. */
function documentsOf(sources: readonly Source[]): unknown[] {
  const out: unknown[] = [];
  for (const { text, source } of sources) {
    const docs = parseAllDocuments(text, { schema: 'core', uniqueKeys: true, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    list.forEach((doc, i) => {
      const where = list.length > 1 ? `${source} (document ${i + 1})` : source;
      if (doc.errors.length > 0) throw new UsageError(`${where} is not valid YAML or JSON: ${doc.errors[0]!.message}`);
      const value: unknown = doc.toJS({ maxAliasCount: 50 });
      if (value === null || value === undefined) return;
      const v = value as { kind?: unknown; items?: unknown };
      if (typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items)) out.push(...v.items);
      else out.push(value);
    });
  }
  return out;
}

/** Converts, printing the warnings on stderr; a refusal prints its errors and fails with the usage exit code. */
function converted(ctx: Context, docs: readonly unknown[]): ConversionResult {
  const result = convertClusterApi(docs, { defaultImageSsmParameter: DEFAULT_IMAGE_SSM_PARAMETER });
  for (const w of result.warnings) ctx.note(`warning: ${formatIssue(w)}`);
  if (result.errors.length > 0) {
    for (const e of result.errors) ctx.note(`error: ${formatIssue(e)}`);
    throw new AlreadyReported(ExitCode.usage);
  }
  return result;
}

export async function convert(ctx: Context, options: ConvertOptions): Promise<void> {
  const output = options.output ?? 'yaml';
  if (!(CONVERT_OUTPUT_FORMATS as readonly string[]).includes(output)) throw new UsageError(`-o must be yaml or json, not "${output}"`);
  const docs = documentsOf(await readSources(options.filename, ctx.io));
  if (docs.length === 0) throw new UsageError(`no objects found in ${options.filename.join(', ')}`);
  const { objects } = converted(ctx, docs);
  if (output === 'json') ctx.io.stdout.write(`${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`);
  else ctx.io.stdout.write(objects.map((o) => new Document(o).toString({ lineWidth: 0 })).join('---\n'));
}

/**
 * What `apply -f` applies: the manifests as they are, or, when any document is Cluster API's, the whole input
 * converted first (references may cross files), its warnings on stderr.
 */
export async function readApplicable(ctx: Context, paths: readonly string[]): Promise<Manifest[]> {
  const sources = await readSources(paths, ctx.io);
  const docs = documentsOf(sources);
  let out: Manifest[];
  if (docs.some(isClusterApiDocument)) {
    out = [];
    for (const o of converted(ctx, docs).objects) {
      const meta = o['metadata'] as { name?: string };
      collect(o, `${String(o['kind'])}/${meta.name ?? ''} (converted from ${paths.join(', ')})`, out);
    }
  } else out = sources.flatMap((s) => parseManifests(s.text, s.source));
  if (out.length === 0) throw new UsageError(`no objects found in ${paths.join(', ')}`);
  return out;
}
