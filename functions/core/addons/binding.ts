/**
 * The cluster's ClusterResourceSetBinding after an apply: one record per resource (hash, applied, time), as Cluster
 * API's ClusterResourceSetBinding keeps them (exp/addons/api/v1beta1/clusterresourcesetbinding_types.go), and the
 * condition ResourcesApplied, which Cluster API sets on the ClusterResourceSet: here it is per cluster, on the binding,
 * so that each cluster's reconcile writes only its own partition.
 */
import { API_VERSION } from '../../api/common.js';
import type { Cluster } from '../../api/cluster.js';
import type { ClusterResourceSetBinding, ResourceBinding, ResourceSetBinding } from '../../api/cluster-resource-set.js';
import { setCondition, timestamp } from '../conditions.js';
import { bindingNameOf, isOwnBinding } from './planner.js';

/** Cluster API's reasons for ResourcesApplied (exp/addons/api/v1beta1 condition_consts.go). */
export const ResourcesAppliedReason = {
  Applied: 'Applied',
  ApplyFailed: 'ApplyFailed',
  RetrievingResourceFailed: 'RetrievingResourceFailed',
  RemoteClusterClientFailed: 'RemoteClusterClientFailed',
} as const;
export type ResourcesAppliedReason = (typeof ResourcesAppliedReason)[keyof typeof ResourcesAppliedReason];

/** What became of one resource of an ApplyClusterResourceSet action. */
export interface ResourceApplyResult {
  name: string;
  hash: string;
  applied: boolean;
  /** Why it was not applied. */
  reason?: ResourcesAppliedReason;
  message?: string;
}

/** A new, empty binding of the cluster, owned by it (its uid tells it from an earlier cluster of the same name). */
export function newBinding(cluster: Cluster): ClusterResourceSetBinding {
  return {
    apiVersion: API_VERSION,
    kind: 'ClusterResourceSetBinding',
    metadata: {
      name: bindingNameOf(cluster.metadata.name),
      namespace: cluster.metadata.namespace,
      ownerReferences: [{ apiVersion: API_VERSION, kind: 'Cluster', name: cluster.metadata.name, uid: cluster.metadata.uid ?? '' }],
    },
    spec: { clusterName: cluster.metadata.name },
  };
}

/**
 * The binding with the results recorded: records of other resources and sets kept, the results' replaced. A binding
 * left by an earlier cluster of the name starts over (and takes this cluster as owner).
 */
export function recordAddonResults(
  cluster: Cluster,
  binding: ClusterResourceSetBinding,
  setName: string,
  results: readonly ResourceApplyResult[],
  now: Date,
): ClusterResourceSetBinding {
  const own = isOwnBinding(cluster, binding);
  const base = own ? binding : { ...binding, metadata: { ...binding.metadata, ownerReferences: newBinding(cluster).metadata.ownerReferences } };
  const sets: ResourceSetBinding[] = own ? [...(binding.status?.bindings ?? [])] : [];
  const index = sets.findIndex((b) => b.clusterResourceSetName === setName);
  const records: ResourceBinding[] = index >= 0 ? [...sets[index]!.resources] : [];
  for (const r of results) {
    const at = records.findIndex((x) => x.name === r.name);
    // A retry that fails as before keeps its record: no write, so no reconcile it would trigger in a loop; the
    // reconcile's error requeue retries it.
    if (at >= 0 && !r.applied && !records[at]!.applied && records[at]!.hash === r.hash) continue;
    const record: ResourceBinding = { name: r.name, hash: r.hash, applied: r.applied, lastAppliedTime: timestamp(now) };
    if (at >= 0) records[at] = record;
    else records.push(record);
  }
  const entry = { clusterResourceSetName: setName, resources: records };
  if (index >= 0) sets[index] = entry;
  else sets.push(entry);
  const failed = results.filter((r) => !r.applied);
  const stillFailed = sets.flatMap((s) => s.resources.filter((x) => !x.applied).map((x) => `${s.clusterResourceSetName}/${x.name}`));
  const conditions = setCondition(
    own ? binding.status?.conditions : [],
    failed.length > 0
      ? {
          type: 'ResourcesApplied',
          status: 'False',
          reason: failed[0]!.reason ?? ResourcesAppliedReason.ApplyFailed,
          message: failed.map((r) => `${setName}/${r.name}: ${r.message ?? 'not applied'}`).join('; '),
        }
      : stillFailed.length > 0
        ? { type: 'ResourcesApplied', status: 'False', reason: ResourcesAppliedReason.ApplyFailed, message: `not applied yet: ${stillFailed.join(', ')}` }
        : { type: 'ResourcesApplied', status: 'True', reason: ResourcesAppliedReason.Applied },
    now,
  );
  return { ...base, status: { ...base.status, bindings: sets, conditions } };
}
