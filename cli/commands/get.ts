/** `get KIND [NAME]`: kubectl-like tables from the kind's printer columns, YAML, JSON or names; -w to watch. */
import { stringify } from 'yaml';
import type { ApiObject, KindDef } from '../../functions/api/kind.js';
import { isNotFound, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { columnWidths, renderRows } from '../format/table.js';
import { columnsFor, qualifiedName, rowOf, sortObjects } from '../format/columns.js';
import { parseDuration } from '../format/duration.js';
import { resolveKind, splitKindName } from '../kinds.js';
import { getKubeconfig } from './kubeconfig.js';

import { OUTPUT_FORMATS } from '../format/output-formats.js';

export { OUTPUT_FORMATS };
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export interface GetOptions {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  selector?: string;
  watch?: boolean;
  watchTimeout?: string;
  interval?: string;
}

export function checkOutput(output: string | undefined, allowed: readonly string[] = OUTPUT_FORMATS): void {
  if (output !== undefined && !allowed.includes(output)) throw new UsageError(`unknown output format "${output}" for -o (one of: ${allowed.join(', ')})`);
}

/** Prints objects as YAML or JSON: one object as itself, several as a List, as kubectl does. */
export function printDocuments(ctx: Context, format: 'yaml' | 'json', value: unknown): void {
  if (format === 'json') ctx.out(JSON.stringify(value, null, 2));
  else ctx.io.stdout.write(stringify(value));
}

async function fetchObjects(ctx: Context, def: KindDef, name: string | undefined, options: GetOptions): Promise<ApiObject[]> {
  const namespace = options.allNamespaces ? undefined : (options.namespace ?? 'default');
  if (name !== undefined) return [(await ctx.client.get<ApiObject>(resourcePath(def, namespace, name))).body];
  const query = options.selector ? { labelSelector: options.selector } : {};
  return sortObjects(await ctx.client.list<ApiObject>(resourcePath(def, namespace), query));
}

export async function get(ctx: Context, kindArg: string, nameArg: string | undefined, options: GetOptions): Promise<void> {
  // `get kubeconfig CLUSTER` is not a kind: the admin kubeconfig of a workload cluster.
  if (kindArg.toLowerCase() === 'kubeconfig') return getKubeconfig(ctx, nameArg, options);
  const { kind, name } = splitKindName(kindArg, nameArg);
  const def = resolveKind(kind);
  checkOutput(options.output);
  if (name !== undefined && options.allNamespaces) throw new UsageError('a resource cannot be retrieved by name across all namespaces (drop -A or the name)');
  if (name !== undefined && options.selector) throw new UsageError('name and -l selector cannot be given together');
  const format = options.output as OutputFormat | undefined;
  if (options.watch) return watch(ctx, def, name, options, format);

  const objects = await fetchObjects(ctx, def, name, options);
  if (format === 'yaml' || format === 'json') {
    printDocuments(ctx, format, name !== undefined ? objects[0] : { apiVersion: 'v1', kind: 'List', metadata: {}, items: objects });
    return;
  }
  if (format === 'name') {
    for (const o of objects) ctx.out(qualifiedName(def, o.metadata.name));
    return;
  }
  if (objects.length === 0) {
    ctx.note(options.allNamespaces ? 'No resources found' : `No resources found in ${options.namespace ?? 'default'} namespace.`);
    return;
  }
  const columns = columnsFor(def, { wide: format === 'wide', allNamespaces: options.allNamespaces ?? false });
  const now = ctx.io.now();
  const rows = [columns.map((c) => c.header), ...objects.map((o) => rowOf(columns, o, now, ctx.colors))];
  ctx.io.stdout.write(renderRows(rows, columnWidths(rows)));
}

/**
 * Prints the table, then a row for every object that is added, changed (new resourceVersion) or removed, until
 * interrupted or --watch-timeout. The changes come from the server's watch (`?watch=true` from the list's
 * resourceVersion, as kubectl does); a server without watch (its list has no resourceVersion, or it answers a
 * watch with a list) is polled every --interval instead.
 */
async function watch(ctx: Context, def: KindDef, name: string | undefined, options: GetOptions, format: OutputFormat | undefined): Promise<void> {
  if (format === 'yaml' || format === 'json') throw new UsageError('-w prints tables or names; use -o wide, -o name or no -o with it');
  const interval = parseDuration(options.interval ?? '1s', '--interval');
  const deadline = options.watchTimeout ? ctx.io.now() + parseDuration(options.watchTimeout, '--watch-timeout') : Infinity;
  const columns = columnsFor(def, { wide: format === 'wide', allNamespaces: options.allNamespaces ?? false });
  const seen = new Map<string, { version: string | undefined; object: ApiObject }>();
  let widths: number[] | undefined;
  let stop = false;
  const interrupted = new AbortController();
  const off = ctx.io.onInterrupt(() => {
    stop = true;
    interrupted.abort();
  });
  const keyOf = (o: ApiObject) => `${o.metadata.namespace}/${o.metadata.name}`;
  const print = (changed: ApiObject[], first: boolean) => {
    const now = ctx.io.now();
    if (format === 'name') for (const o of changed) ctx.out(qualifiedName(def, o.metadata.name));
    else {
      const rows = changed.map((o) => rowOf(columns, o, now, ctx.colors));
      if (first) {
        const header = columns.map((c) => c.header);
        if (rows.length === 0) ctx.note(options.allNamespaces ? 'No resources found' : `No resources found in ${options.namespace ?? 'default'} namespace.`);
        widths = columnWidths([header, ...rows]);
        ctx.io.stdout.write(renderRows([header, ...rows], widths));
      } else if (rows.length > 0) {
        // The first table's widths, so that later rows line up with its header.
        ctx.io.stdout.write(renderRows(rows, widths ?? columnWidths(rows)));
      }
    }
  };
  /** Lists and prints what changed since the last list. */
  const poll = async (first: boolean) => {
    let objects: ApiObject[];
    try {
      objects = await fetchObjects(ctx, def, name, options);
    } catch (err) {
      // A watched object that goes away is a change to show; one that was never there is an error.
      if (first || name === undefined || !isNotFound(err)) throw err;
      objects = [];
    }
    const changed: ApiObject[] = [];
    const present = new Set<string>();
    for (const o of objects) {
      present.add(keyOf(o));
      const before = seen.get(keyOf(o));
      if (!before || before.version !== o.metadata.resourceVersion) changed.push(o);
      seen.set(keyOf(o), { version: o.metadata.resourceVersion, object: o });
    }
    for (const [key, { object }] of [...seen]) {
      if (present.has(key)) continue;
      changed.push(object);
      seen.delete(key);
    }
    print(changed, first);
  };
  const namespace = options.allNamespaces ? undefined : (options.namespace ?? 'default');
  const selectors = {
    ...(options.selector ? { labelSelector: options.selector } : {}),
    ...(name !== undefined ? { fieldSelector: `metadata.name=${name}` } : {}),
  };
  /** The version a list is at, read before the list so that the watch from it misses nothing; undefined without watch. */
  const listVersion = async () =>
    (await ctx.client.get<{ metadata?: { resourceVersion?: string } }>(resourcePath(def, namespace), { ...selectors, limit: '1' })).body?.metadata
      ?.resourceVersion || undefined;
  /** Follows the watch from `version` until it ends: the version to go on from, 'expired' (list again) or 'unsupported'. */
  const follow = async (version: string): Promise<string | 'expired' | 'unsupported'> => {
    const remaining = deadline === Infinity ? undefined : Math.max(1, Math.ceil((deadline - ctx.io.now()) / 1000));
    const query = { ...selectors, resourceVersion: version, allowWatchBookmarks: 'true', ...(remaining ? { timeoutSeconds: String(remaining) } : {}) };
    const events = await ctx.client
      .watch<ApiObject & { code?: number; message?: string }>(resourcePath(def, namespace), query, interrupted.signal)
      .catch((err: unknown) => {
        // Ctrl-C while the watch was being opened is the end of it, not an error.
        if (stop) return undefined;
        throw err;
      });
    if (!events) return 'unsupported';
    for await (const e of events) {
      if (e.type === 'ERROR') {
        if (e.object.code === 410) return 'expired';
        throw new Error(`the watch failed: ${e.object.message ?? JSON.stringify(e.object)}`);
      }
      version = e.object.metadata.resourceVersion ?? version;
      if (e.type === 'BOOKMARK') continue;
      const key = keyOf(e.object);
      if (e.type === 'DELETED') seen.delete(key);
      else if (seen.get(key)?.version === e.object.metadata.resourceVersion) continue;
      else seen.set(key, { version: e.object.metadata.resourceVersion, object: e.object });
      print([e.object], false);
    }
    return version;
  };
  try {
    let version = await listVersion();
    await poll(true);
    while (!stop) {
      if (version === undefined) {
        // No watch on this server: poll.
        if (ctx.io.now() + interval > deadline) break;
        await ctx.io.sleep(interval);
        if (!stop) await poll(false);
        continue;
      }
      const outcome = await follow(version);
      if (stop || ctx.io.now() >= deadline) break;
      if (outcome === 'unsupported') version = undefined;
      else if (outcome === 'expired') {
        // Too far behind to resume: list again, print what changed meanwhile, and watch from there.
        version = await listVersion();
        await poll(false);
      } else version = outcome;
    }
  } finally {
    off();
  }
}
