/**
 * `clusterless sim interrupt MACHINE`: a spot interruption in the embedded host's simulated cloud. The host sends
 * the two-minute "EC2 Spot Instance Interruption Warning" for the machine's instance now (recorded on the Machine
 * as AWS's would be by the instance-events function) and terminates it 120 simulated seconds later; with
 * `--rebalance`, an "EC2 Instance Rebalance Recommendation" only. A host-only route, as `sim kill`'s.
 */
import { kindByName } from '../../functions/api/kinds.js';
import { isRouteNotFound } from '../client.js';
import type { Context } from '../context.js';
import { ApiRequestError } from '../errors.js';
import { qualifiedName } from '../format/columns.js';

export const simNoticePath = (namespace: string, machine: string, notice: 'interrupt' | 'rebalance') =>
  `/clusterless/v1/sim/namespaces/${encodeURIComponent(namespace)}/machines/${encodeURIComponent(machine)}/${notice}`;

export interface SimInterruptOptions {
  namespace?: string;
  rebalance?: boolean;
}

export async function simInterrupt(ctx: Context, machine: string, options: SimInterruptOptions): Promise<void> {
  const ns = options.namespace ?? 'default';
  const path = simNoticePath(ns, machine, options.rebalance ? 'rebalance' : 'interrupt');
  let body: { instances?: { instanceId: string; terminationTime?: string }[] };
  try {
    body = (await ctx.client.request<typeof body>('POST', path, { body: {} })).body ?? {};
  } catch (err) {
    if (isRouteNotFound(err))
      throw new ApiRequestError(
        `the server at ${ctx.client.server} does not serve the simulator (POST ${path} answered 404; is it an embedded host?)`,
        404,
        (err as ApiRequestError).status,
      );
    throw err;
  }
  const name = qualifiedName(kindByName('Machine')!, machine);
  for (const i of body.instances ?? [])
    ctx.out(
      options.rebalance
        ? `${name}: rebalance recommendation sent for ${i.instanceId}`
        : `${name}: interruption warning sent for ${i.instanceId}, terminated at ${i.terminationTime ?? 'its end'}`,
    );
}
