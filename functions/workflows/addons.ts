/**
 * Carries out ApplyClusterResourceSet actions (core/addons): each due resource's manifests, read from the set
 * (inline) or the PayloadStore (by digest), applied to the cluster's API through the AddonApplier, in the set's
 * order; every result recorded in the cluster's ClusterResourceSetBinding. A failure is recorded (ResourcesApplied
 * False with the message) and reported as an error, so the reconcile requeues soon and the next one retries it; it
 * never stops the rest of the reconcile.
 */
import { createHash } from 'node:crypto';
import type { Cluster } from '../api/cluster.js';
import type { ClusterResourceSetBinding, StoredClusterResourceSet } from '../api/cluster-resource-set.js';
import { jsonEqual } from '../api/kind.js';
import { ResourcesAppliedReason, newBinding, recordAddonResults, type ResourceApplyResult } from '../core/addons/binding.js';
import { bindingNameOf } from '../core/addons/planner.js';
import type { Action } from '../core/plan.js';
import { AddonApplierUnavailableError, AlreadyExistsError, ConflictError } from '../ports.js';
import type { WorkflowDeps } from './deps.js';

type ApplyAction = Extract<Action, { type: 'ApplyClusterResourceSet' }>;

const decoder = new TextDecoder();

/** The digest of inline manifests, as the payload store names them, so both kinds of resource hash alike. */
export function manifestsDigest(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/** Sets as the planner reads them: every resource with its digest (inline ones hashed here). */
export function withDigests(sets: readonly StoredClusterResourceSet[]): StoredClusterResourceSet[] {
  return sets.map((s) => ({
    ...s,
    spec: {
      ...s.spec,
      resources: s.spec.resources.map((r) => (r.digest === undefined && r.manifests !== undefined ? { ...r, digest: manifestsDigest(r.manifests) } : r)),
    },
  }));
}

/** The manifests of one resource, or why they cannot be had. */
async function manifestsOf(deps: WorkflowDeps, r: StoredClusterResourceSet['spec']['resources'][number]): Promise<string | { missing: string }> {
  if (r.manifests !== undefined) return r.manifests;
  if (r.digest === undefined) return { missing: 'the resource names no manifests' };
  const bytes = await deps.payloads.get(r.digest);
  return bytes === undefined ? { missing: `its manifests (${r.digest}) are not in the payload store` } : decoder.decode(bytes);
}

/** Applies one action's resources and records them; returns the errors to report (empty when all applied). */
export async function applyClusterResourceSet(deps: WorkflowDeps, cluster: Cluster, action: ApplyAction): Promise<string[]> {
  const { namespace, name: clusterName } = cluster.metadata;
  const stored = await deps.store.get<StoredClusterResourceSet>('ClusterResourceSet', namespace, action.clusterResourceSet);
  if (!stored || stored.metadata.deletionTimestamp) return [];
  const [set] = withDigests([stored]);
  const results: ResourceApplyResult[] = [];
  let unreachable = false;
  for (const planned of action.resources) {
    const r = set!.spec.resources.find((x) => x.name === planned.name);
    // Changed or gone since it was planned: the next pass plans it again from what is there.
    if (!r || r.digest !== planned.hash) continue;
    if (unreachable) {
      results.push({ ...planned, applied: false, reason: ResourcesAppliedReason.RemoteClusterClientFailed, message: 'the cluster API did not answer' });
      continue;
    }
    try {
      const manifests = await manifestsOf(deps, r);
      if (typeof manifests !== 'string') {
        results.push({ ...planned, applied: false, reason: ResourcesAppliedReason.RetrievingResourceFailed, message: manifests.missing });
        continue;
      }
      await deps.addons.apply(namespace, clusterName, manifests);
      results.push({ ...planned, applied: true });
    } catch (err) {
      const unavailable = err instanceof AddonApplierUnavailableError;
      // Once the API does not answer, the set's later resources are not tried in this pass.
      unreachable ||= unavailable;
      results.push({
        ...planned,
        applied: false,
        reason: unavailable ? ResourcesAppliedReason.RemoteClusterClientFailed : ResourcesAppliedReason.ApplyFailed,
        message: (err as Error).message,
      });
    }
  }
  if (results.length === 0) return [];
  await recordResults(deps, cluster, action.clusterResourceSet, results);
  return results.filter((r) => !r.applied).map((r) => `ApplyClusterResourceSet: ${action.clusterResourceSet}/${r.name}: ${r.reason}: ${r.message ?? ''}`);
}

/** Writes the results into the cluster's binding (made when absent), from a fresh read; a lost race is read again. */
async function recordResults(deps: WorkflowDeps, cluster: Cluster, setName: string, results: readonly ResourceApplyResult[]): Promise<void> {
  const { namespace, name: clusterName } = cluster.metadata;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      let binding = await deps.store.get<ClusterResourceSetBinding>('ClusterResourceSetBinding', namespace, bindingNameOf(clusterName));
      if (!binding) binding = await deps.store.create(newBinding(cluster));
      const next = recordAddonResults(cluster, binding, setName, results, deps.clock.now());
      if (!jsonEqual(next.metadata.ownerReferences, binding.metadata.ownerReferences))
        binding = await deps.store.update({ ...binding, metadata: next.metadata });
      if (!jsonEqual(next.status ?? {}, binding.status ?? {})) await deps.store.updateStatus({ ...next, metadata: binding.metadata });
      return;
    } catch (err) {
      if (!(err instanceof ConflictError) && !(err instanceof AlreadyExistsError)) throw err;
    }
  }
  deps.log.warn('the ClusterResourceSetBinding kept changing; the next reconcile records again', { namespace, clusterName, set: setName });
}
