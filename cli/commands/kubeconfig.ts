/**
 * `get kubeconfig CLUSTER [--expiration 2h]`: the admin kubeconfig of a workload cluster, signed by its CA, printed
 * as the YAML file it is (`clusterless get kubeconfig demo > demo.kubeconfig`), like `clusterctl get kubeconfig`.
 * Its credentials last an hour unless --expiration says otherwise (the server allows up to a day).
 */
import { kindByName } from '../../functions/api/kinds.js';
import { resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { parseDuration } from '../format/duration.js';

export interface KubeconfigOptions {
  namespace?: string;
  allNamespaces?: boolean;
  output?: string;
  selector?: string;
  watch?: boolean;
  expiration?: string;
}

export async function getKubeconfig(ctx: Context, cluster: string | undefined, options: KubeconfigOptions): Promise<void> {
  if (!cluster) throw new UsageError('get kubeconfig needs the name of a cluster: clusterless get kubeconfig CLUSTER');
  if (options.allNamespaces || options.selector || options.watch) throw new UsageError('get kubeconfig takes a cluster name and -n only (and --expiration)');
  if (options.output !== undefined && options.output !== 'yaml') throw new UsageError('a kubeconfig is printed as YAML only');
  const path = resourcePath(kindByName('Cluster')!, options.namespace ?? 'default', cluster, 'kubeconfig');
  const query = options.expiration === undefined ? undefined : { expirationSeconds: String(expirationSeconds(options.expiration)) };
  const reply = await ctx.client.request<string>('GET', path, { raw: true, ...(query ? { query } : {}) });
  ctx.io.stdout.write(reply.body.endsWith('\n') ? reply.body : `${reply.body}\n`);
}

/** --expiration in whole seconds; the server judges the range, so its limits live in one place. */
function expirationSeconds(text: string): number {
  const ms = parseDuration(text, '--expiration');
  if (ms % 1000 !== 0) throw new UsageError(`--expiration must be a whole number of seconds, not "${text}"`);
  return ms / 1000;
}
