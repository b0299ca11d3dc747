/**
 * The admission rules between a Cluster's topology and its ClusterClass, which read the other object: the
 * topology's variables and worker classes checked against the class, and a class update that would remove a
 * worker class Clusters still use. Learnt from cluster-api internal/webhooks/cluster.go (validateTopology reads the
 * ClusterClass) and clusterclass.go (validateRemovedMachineDeploymentClassesAreNotUsed). A Cluster whose class does
 * not exist yet is admitted, as in Cluster API: the topology planner reports it (TopologyReconciled False,
 * ClusterClassNotFound) until the class is created. A class a Cluster uses cannot be deleted (Cluster API's
 * ClusterClass webhook ValidateDelete); a Cluster being deleted no longer counts, so a fleet can be torn down in
 * one go.
 */
import { removedWorkerClassCauses, topologyClassCauses, type ClusterClass } from '../cluster-class.js';
import type { Cluster } from '../cluster.js';
import { cause, jsonEqual, type ApiObject, type FieldCause } from '../kind.js';
import type { Store } from '../../ports.js';

/** Causes for a create (`old` undefined) or an update of a Cluster or ClusterClass; reads only when they changed. */
export async function clusterClassCauses(store: Pick<Store, 'get' | 'list'>, obj: ApiObject, old: ApiObject | undefined): Promise<FieldCause[]> {
  const namespace = obj.metadata.namespace;
  if (!namespace) return [];
  if (obj.kind === 'Cluster') {
    const topology = (obj as Cluster).spec.topology;
    if (!topology || (old && jsonEqual((old as Cluster).spec.topology, topology))) return [];
    const cc = await store.get<ClusterClass>('ClusterClass', namespace, topology.class);
    return cc ? topologyClassCauses(topology, cc) : [];
  }
  if (obj.kind === 'ClusterClass' && old) {
    const [a, b] = [old as ClusterClass, obj as ClusterClass];
    if (jsonEqual(a.spec.workers, b.spec.workers)) return [];
    return removedWorkerClassCauses(a, b, await store.list<Cluster>('Cluster', namespace));
  }
  return [];
}

/** Causes for deleting ClusterClass `name`: one while Clusters not being deleted use it. */
export async function clusterClassDeleteCauses(store: Pick<Store, 'list'>, kind: string, namespace: string, name: string): Promise<FieldCause[]> {
  if (kind !== 'ClusterClass') return [];
  const users = (await store.list<Cluster>('Cluster', namespace))
    .filter((c) => c.spec.topology?.class === name && !c.metadata.deletionTimestamp)
    .map((c) => c.metadata.name)
    .sort();
  return users.length ? [cause.forbidden('metadata.name', `ClusterClass ${name} is used by Cluster${users.length > 1 ? 's' : ''} ${users.join(', ')}`)] : [];
}
