/**
 * `apply -f`: create each object, or update it from the manifest, through the API's apply (the server-side apply
 * PATCH, `application/apply-patch+yaml`, which the server maps to the one apply of functions/api/service).
 *
 * Note: apply merges the manifest onto the live object, so fields it sets win and fields it leaves out keep
 * their live (often defaulted) values; unlike kubectl's three-way merge, a field deleted from the manifest is
 * not removed from the object (set it to null in the manifest to remove it).
 */
import { jsonEqual, type ApiObject } from '../../functions/api/kind.js';
import { mergePatch } from '../../functions/api/http/merge-patch.js';
import { APPLY_PATCH, FIELD_MANAGER, isNotFound, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { AlreadyReported, ApiRequestError, UsageError, errorLine } from '../errors.js';
import { qualifiedName } from '../format/columns.js';
import type { Manifest } from '../manifests.js';
import { readApplicable } from './convert.js';

export interface ApplyOptions {
  filename: string[];
  namespace?: string;
}

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/** Server-set metadata a manifest may carry (e.g. one saved with `get -o yaml`): never sent back. */
const SERVER_FIELDS = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp'] as const;

/** The manifest as the patch or body to send: without status and server metadata, in the namespace used. */
export function desiredOf(obj: ApiObject, namespace: string): Record<string, unknown> {
  const { status: _status, ...rest } = obj;
  const meta: Record<string, unknown> = { ...obj.metadata, namespace };
  for (const f of SERVER_FIELDS) delete meta[f];
  return { ...rest, metadata: meta };
}

/** What an object says about itself once the server's bookkeeping is set aside, to tell configured from unchanged. */
function content(obj: ApiObject): unknown {
  const { resourceVersion: _rv, generation: _g, ...meta } = obj.metadata;
  const { status: _s, ...rest } = obj;
  return { ...rest, metadata: meta };
}

export function namespaceOf(m: Manifest, flag: string | undefined): string {
  const own = m.object.metadata.namespace;
  if (flag !== undefined && own !== undefined && own !== flag)
    throw new UsageError(`${m.source}: the namespace of the object (${own}) does not match --namespace ${flag}`);
  return own ?? flag ?? 'default';
}

export async function applyOne(ctx: Context, m: Manifest, namespace: string): Promise<ApplyResult> {
  const { def } = m;
  const name = m.object.metadata.name;
  const desired = desiredOf(m.object, namespace);
  // Read first to tell created, configured and unchanged apart (the apply answers with the object only).
  let live: ApiObject | undefined;
  try {
    live = (await ctx.client.get<ApiObject>(resourcePath(def, namespace, name))).body;
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  // Nothing to send when the manifest already holds for the live object (the server would write nothing either).
  if (live && jsonEqual(mergePatch(content(live), desired), content(live))) return 'unchanged';
  const reply = await ctx.client.request<ApiObject>('PATCH', resourcePath(def, namespace, name), {
    body: desired,
    contentType: APPLY_PATCH,
    query: { fieldManager: FIELD_MANAGER },
  });
  if (reply.status === 201) return 'created';
  return live && jsonEqual(content(reply.body), content(live)) ? 'unchanged' : 'configured';
}

/**
 * Applies every object in order; a refused object does not stop the others (as with kubectl): each refusal
 * is its own `error:` line, and the command fails at the end. An unreachable server stops it at once.
 */
export async function apply(ctx: Context, options: ApplyOptions): Promise<void> {
  // Cluster API manifests are converted first (convert.ts), their warnings on stderr.
  const manifests = await readApplicable(ctx, options.filename);
  const namespaces = manifests.map((m) => namespaceOf(m, options.namespace));
  let failed: ApiRequestError | undefined;
  for (const [i, m] of manifests.entries()) {
    try {
      const result = await applyOne(ctx, m, namespaces[i]!);
      ctx.out(`${qualifiedName(m.def, m.object.metadata.name)} ${result}`);
    } catch (err) {
      if (!(err instanceof ApiRequestError)) throw err;
      ctx.note(errorLine(err));
      failed ??= err;
    }
  }
  if (failed) throw new AlreadyReported(failed.exitCode);
}
