/** `scale KIND NAME --replicas N`: a merge patch of spec.replicas, for the kinds with a scale subresource. */
import { KINDS } from '../../functions/api/kinds.js';
import { MERGE_PATCH, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { qualifiedName } from '../format/columns.js';
import { resolveKind } from '../kinds.js';

const SCALABLE = KINDS.filter((k) => k.scale).map((k) => k.kind);

export async function scale(ctx: Context, kind: string, name: string, options: { replicas?: string; namespace?: string }): Promise<void> {
  const def = resolveKind(kind, SCALABLE);
  if (options.replicas === undefined) throw new UsageError('--replicas is required');
  const replicas = Number(options.replicas);
  if (!/^\d+$/.test(options.replicas) || !Number.isSafeInteger(replicas)) throw new UsageError(`--replicas must be an integer >= 0, not "${options.replicas}"`);
  await ctx.client.request('PATCH', resourcePath(def, options.namespace ?? 'default', name), {
    body: { spec: { replicas } },
    contentType: MERGE_PATCH,
  });
  ctx.out(`${qualifiedName(def, name)} scaled`);
}
