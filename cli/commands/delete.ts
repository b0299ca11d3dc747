/** `delete KIND NAME [--wait]`: marks the object deleted; with --wait, returns once teardown removed it. */
import { isNotFound, resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { OperationError, UsageError } from '../errors.js';
import { formatDuration, parseDuration } from '../format/duration.js';
import { resolveKind, splitKindName } from '../kinds.js';

export interface DeleteOptions {
  namespace?: string;
  wait?: boolean;
  timeout?: string;
  interval?: string;
  ignoreNotFound?: boolean;
}

export async function deleteObject(ctx: Context, kindArg: string, nameArg: string | undefined, options: DeleteOptions): Promise<void> {
  const { kind, name } = splitKindName(kindArg, nameArg);
  const def = resolveKind(kind);
  if (name === undefined) throw new UsageError(`a name is required: clusterless delete ${def.singular} NAME`);
  const path = resourcePath(def, options.namespace ?? 'default', name);
  try {
    await ctx.client.request('DELETE', path);
  } catch (err) {
    if (options.ignoreNotFound && isNotFound(err)) return;
    throw err;
  }
  ctx.out(`${def.singular}.clusterless.dev "${name}" deleted`);
  if (!options.wait) return;
  const timeout = parseDuration(options.timeout ?? '0', '--timeout');
  const interval = parseDuration(options.interval ?? '1s', '--interval');
  const start = ctx.io.now();
  for (;;) {
    try {
      await ctx.client.get(path);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (timeout > 0 && ctx.io.now() - start + interval > timeout)
      throw new OperationError(
        `timed out after ${formatDuration(timeout)} waiting for ${def.singular} "${name}" to be removed (its teardown is still running)`,
      );
    await ctx.io.sleep(interval);
  }
}
