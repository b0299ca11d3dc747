/** `describe cluster NAME`: the clusterctl-describe-like tree, read from the list endpoints. */
import { Labels } from '../../functions/api/common.js';
import type { ApiObject } from '../../functions/api/kind.js';
import { kindByName } from '../../functions/api/kinds.js';
import { resourcePath } from '../client.js';
import type { Context } from '../context.js';
import { clusterTree, renderTree } from '../format/describe.js';
import { renderEvents } from '../format/events.js';
import { EVENTS_API_VERSION, type Event } from '../../functions/api/event.js';
import { resolveKind } from '../kinds.js';

const clusterNameOf = (o: ApiObject) => (o.spec as { clusterName?: string } | undefined)?.clusterName;

export async function describe(ctx: Context, kindArg: string, name: string, options: { namespace?: string }): Promise<void> {
  resolveKind(kindArg, ['Cluster']);
  const ns = options.namespace ?? 'default';
  const list = async (kind: string, bySelector: boolean) => {
    const def = kindByName(kind)!;
    const query = bySelector ? { labelSelector: `${Labels.clusterName}=${name}` } : {};
    const items = await ctx.client.list<ApiObject>(resourcePath(def, ns), query);
    // The label narrows the list on the server; spec.clusterName is what really says whose an object is.
    return items.filter((o) => clusterNameOf(o) === name);
  };
  const cluster = (await ctx.client.get<ApiObject>(resourcePath(kindByName('Cluster')!, ns, name))).body;
  // ControlPlanes carry no cluster-name label (the API defaults it on the others), so they are filtered here.
  const [controlPlanes, machineDeployments, machines] = await Promise.all([
    list('ControlPlane', false),
    list('MachineDeployment', true),
    list('Machine', true),
  ]);
  // As kubectl describe: the object's events, by its kind, name and uid (events.k8s.io; an older server has none).
  const events = await ctx.client
    .list<Event>(`/apis/${EVENTS_API_VERSION}/namespaces/${encodeURIComponent(ns)}/events`, { fieldSelector: `regarding.kind=Cluster,regarding.name=${name}` })
    .then(
      (items) => items.filter((e) => !cluster.metadata.uid || !e.regarding.uid || e.regarding.uid === cluster.metadata.uid),
      () => [] as Event[],
    );
  ctx.io.stdout.write(renderTree(clusterTree({ cluster, controlPlanes, machineDeployments, machines }), ctx.io.now(), ctx.colors));
  ctx.io.stdout.write(renderEvents(events, ctx.io.now()));
}
