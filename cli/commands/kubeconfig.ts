/**
 * `get kubeconfig CLUSTER`: the admin kubeconfig of a workload cluster, signed by its CA, printed as the YAML
 * file it is (`clusterless get kubeconfig demo > demo.kubeconfig`), like `clusterctl get kubeconfig`.
 */
import { kindByName } from '../../functions/api/kinds.js';
import { resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';

export async function getKubeconfig(ctx: Context, cluster: string | undefined, options: { namespace?: string; allNamespaces?: boolean; output?: string; selector?: string; watch?: boolean }): Promise<void> {
  if (!cluster) throw new UsageError('get kubeconfig needs the name of a cluster: clusterless get kubeconfig CLUSTER');
  if (options.allNamespaces || options.selector || options.watch) throw new UsageError('get kubeconfig takes a cluster name and -n only');
  if (options.output !== undefined && options.output !== 'yaml') throw new UsageError('a kubeconfig is printed as YAML only');
  const path = resourcePath(kindByName('Cluster')!, options.namespace ?? 'default', cluster, 'kubeconfig');
  const reply = await ctx.client.request<string>('GET', path, { raw: true });
  ctx.io.stdout.write(reply.body.endsWith('\n') ? reply.body : `${reply.body}\n`);
}
