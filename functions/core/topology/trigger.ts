import type { Cluster } from '../../api/cluster.js';

/**
 * The Clusters a change of ClusterClass `className` must reconcile: those of its namespace whose topology names it
 * (a ClusterClass lives in the namespace's partition, so its own write reconciles no cluster).
 */
export function clustersUsingClass(clusters: readonly Cluster[], className: string): string[] {
  return clusters
    .filter((c) => c.spec.topology?.class === className)
    .map((c) => c.metadata.name)
    .sort();
}
