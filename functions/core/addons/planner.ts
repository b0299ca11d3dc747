/**
 * Which ClusterResourceSets apply to a cluster and which of their resources are due, as Cluster API's
 * exp/addons/internal/controllers/clusterresourceset_controller.go (getClustersByClusterResourceSetSelector,
 * ApplyClusterResourceSet) and clusterresourceset_scope.go (needsApply) decide it:
 * - a set selects Clusters of its own namespace by label; an empty selector selects none;
 * - ApplyOnce applies a resource until it has been applied once to the cluster, whatever changes later;
 * - Reconcile applies it again whenever its hash differs from the one applied;
 * - a resource that failed is due again (retried by the next reconcile), without holding back the others.
 * Nothing is applied before the cluster's API answers: the control plane initialized and its nodes read in this
 * observation. Pure: the hash of each resource is given (its payload digest).
 */
import type { Cluster } from '../../api/cluster.js';
import {
  ClusterResourceSetStrategy,
  type ClusterResourceSetBinding,
  type ResourceBinding,
  type StoredClusterResourceSet,
} from '../../api/cluster-resource-set.js';
import { selectorIsEmpty, selectorMatches } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { ObjectRef, Plan } from '../plan.js';
import { emptyPlan, refOf } from '../plan.js';

export interface AddonsScope {
  cluster: Cluster;
  controlPlane?: ControlPlane;
  /** The ClusterResourceSets of the cluster's namespace, as stored (each resource with its digest). */
  clusterResourceSets: readonly StoredClusterResourceSet[];
  /** The cluster's ClusterResourceSetBinding, when there is one. */
  binding?: ClusterResourceSetBinding;
  /** The workload API answered in this observation (its nodes were read) and the host can apply to it. */
  apiAnswers: boolean;
}

/** A resource to apply and the hash it must still have when applied. */
export interface DueResource {
  name: string;
  hash: string;
}

/** The name of a cluster's binding: the cluster's own, as Cluster API names it. */
export const bindingNameOf = (clusterName: string) => clusterName;

/** The sets whose selector matches the cluster, not being deleted, by name. */
export function matchingClusterResourceSets(cluster: Cluster, sets: readonly StoredClusterResourceSet[]): StoredClusterResourceSet[] {
  return sets
    .filter(
      (s) =>
        s.metadata.namespace === cluster.metadata.namespace &&
        !s.metadata.deletionTimestamp &&
        !selectorIsEmpty(s.spec.clusterSelector) &&
        selectorMatches(s.spec.clusterSelector, cluster.metadata.labels),
    )
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}

/**
 * The binding's records, when the binding is this cluster's: one left by an earlier cluster of the same name (another
 * uid) records nothing applied to this one.
 */
export function bindingRecords(cluster: Cluster, binding: ClusterResourceSetBinding | undefined, setName: string): ResourceBinding[] {
  if (!binding || !isOwnBinding(cluster, binding)) return [];
  return binding.status?.bindings?.find((b) => b.clusterResourceSetName === setName)?.resources ?? [];
}

export function isOwnBinding(cluster: Cluster, binding: ClusterResourceSetBinding): boolean {
  const owner = binding.metadata.ownerReferences?.find((o) => o.kind === 'Cluster' && o.name === cluster.metadata.name);
  return owner !== undefined && owner.uid === cluster.metadata.uid;
}

/** The resources of a set due on the cluster, in the set's order. */
export function resourcesDue(set: StoredClusterResourceSet, records: readonly ResourceBinding[]): DueResource[] {
  const byName = new Map(records.map((r) => [r.name, r]));
  return set.spec.resources
    .map((r) => ({ name: r.name, hash: r.digest ?? '' }))
    .filter((r) => {
      const done = byName.get(r.name);
      if (!done?.applied) return true;
      return set.spec.strategy === ClusterResourceSetStrategy.Reconcile && done.hash !== r.hash;
    });
}

/** Applies due resources once the cluster's API answers; removes the binding of a cluster being deleted. */
export function planAddons(scope: AddonsScope): Plan {
  const plan = emptyPlan();
  const { cluster, binding } = scope;
  if (cluster.metadata.deletionTimestamp) {
    // The binding lives in the cluster's partition: it goes with the cluster, so that a new cluster of the same
    // name starts with nothing applied.
    if (binding) plan.writes.push({ type: 'Delete', ref: refOf(binding), reason: 'its Cluster is being deleted' });
    return plan;
  }
  const sets = matchingClusterResourceSets(cluster, scope.clusterResourceSets);
  if (sets.length === 0) return plan;
  if (!scope.controlPlane?.status?.initialized || !scope.apiAnswers) {
    plan.notes.push(`addons of ${cluster.metadata.name} wait for its API to answer`);
    return plan;
  }
  const clusterRef: ObjectRef = refOf(cluster);
  for (const set of sets) {
    const due = resourcesDue(set, bindingRecords(cluster, binding, set.metadata.name));
    if (due.length === 0) continue;
    plan.actions.push({ type: 'ApplyClusterResourceSet', cluster: clusterRef, clusterResourceSet: set.metadata.name, resources: due });
    plan.notes.push(`apply ${due.map((r) => r.name).join(', ')} of ClusterResourceSet ${set.metadata.name}`);
  }
  return plan;
}
