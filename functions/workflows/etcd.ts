/**
 * The etcd of a cluster's control plane, as the workflows reach it: read once per observation, and a member taken
 * out (leadership handed over first) when a plan asks. The members and their health are etcd's own
 * (EtcdMembership); which instances host them is the provider's (the control-plane machines' instances).
 */
import type { Cluster } from '../api/cluster.js';
import type { Machine } from '../api/machine.js';
import { isControlPlaneMachine } from '../core/cluster/objects.js';
import type { EtcdFact, InstanceFact } from '../core/observed.js';
import type { EtcdTarget } from '../ports.js';
import type { WorkflowDeps } from './deps.js';

function targetOf(cluster: Cluster, machines: Iterable<Machine>, instances: readonly InstanceFact[]): EtcdTarget {
  const uids = new Set([...machines].filter(isControlPlaneMachine).map((m) => m.metadata.uid));
  return {
    namespace: cluster.metadata.namespace,
    clusterName: cluster.metadata.name,
    clusterSpec: cluster.spec,
    instances: instances.filter((i) => uids.has(i.machineUid)),
  };
}

/**
 * The cluster's etcd, or undefined when its provider runs none the host reaches or it has no control-plane machine
 * yet. A read that fails is a fact too (`error`): the planners then change nothing that needs etcd.
 */
export async function observeEtcd(
  deps: WorkflowDeps,
  cluster: Cluster,
  machines: readonly Machine[],
  instances: readonly InstanceFact[],
): Promise<EtcdFact | undefined> {
  if (!machines.some(isControlPlaneMachine)) return undefined;
  const target = targetOf(cluster, machines, instances);
  try {
    return await deps.etcd.read(target);
  } catch (err) {
    const message = (err as Error).message;
    deps.log.warn('etcd could not be read', { namespace: target.namespace, clusterName: target.clusterName, error: message });
    return { members: [], error: message };
  }
}

/**
 * Takes a member out of the cluster's etcd: leadership first, if it leads (KCP ForwardEtcdLeadership), then the
 * member (RemoveEtcdMemberForMachine). Both are idempotent, so a workflow that dies between them does it again.
 */
export async function removeEtcdMember(deps: WorkflowDeps, cluster: Cluster, machines: Iterable<Machine>, member: string): Promise<void> {
  const instances = await deps.provider.describe(cluster.metadata.namespace, cluster.metadata.name);
  const target = targetOf(cluster, machines, instances);
  await deps.etcd.forwardLeadership(target, member);
  await deps.etcd.removeMember(target, member);
  deps.log.info('etcd member removed', { namespace: target.namespace, clusterName: target.clusterName, member });
}
