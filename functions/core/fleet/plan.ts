/**
 * The plan of a FleetUpgrade, frozen when it starts: which Clusters, in which waves. Pure: the clusters and the
 * time are passed in.
 */
import { selectorIsEmpty, selectorMatches } from '../../api/common.js';
import type { Cluster } from '../../api/cluster.js';
import type { FleetUpgrade, FleetUpgradeCluster, FleetUpgradeStatus, FleetUpgradeWave, FleetUpgradeWaves } from '../../api/fleet-upgrade.js';
import { MAX_FLEET_UPGRADE_CLUSTERS } from '../../api/fleet-upgrade.js';
import { timestamp } from '../conditions.js';
import { countClusters } from './progress.js';

/** What the fleet reads of a Cluster's topology: its class and version (the topology contract). */
export type ClusterTopologyView = Pick<NonNullable<Cluster['spec']['topology']>, 'class' | 'version'>;

export function topologyOf(cluster: Cluster): ClusterTopologyView | undefined {
  const t = cluster.spec.topology;
  return t ? { class: t.class, version: t.version } : undefined;
}

/**
 * The wave sizes for `total` matched clusters: the canary first (at most `canary`), then each batch, a count or a
 * percent of `total` rounded up (as Cluster API rounds maxSurge: intstr.GetScaledValueFromIntOrPercent with
 * roundUp), each at most what is left; the last batch takes whatever is left, whatever it says. Waves that would
 * be empty are left out, so 0 clusters give no wave. Canary 1 then 10/30/60 % of 200 is 1, 20, 60, 119.
 */
export function splitWaves(total: number, waves: FleetUpgradeWaves): { name: string; size: number }[] {
  const out: { name: string; size: number }[] = [];
  let left = total;
  const canary = Math.min(waves.canary, left);
  if (canary > 0) out.push({ name: 'canary', size: canary });
  left -= canary;
  waves.batches.forEach((b, i) => {
    const last = i === waves.batches.length - 1;
    const asked = typeof b === 'number' ? b : Math.ceil((Number(b.slice(0, -1)) * total) / 100);
    const size = last ? left : Math.min(asked, left);
    if (size > 0) out.push({ name: `batch-${i + 1}`, size });
    left -= size;
  });
  return out;
}

export type SelectedCluster = { cluster: Cluster; topology: ClusterTopologyView | undefined };

/**
 * The Clusters of the upgrade's namespace it selects, by name: its labels match the selector (when it has one) and
 * its topology's class is `clusterClass` (when given). Clusters being deleted are not selected. A selected cluster
 * without a topology is kept, to be recorded as skipped: the user sees why it was not upgraded.
 */
export function selectClusters(fu: FleetUpgrade, clusters: readonly Cluster[]): SelectedCluster[] {
  const { clusterSelector, clusterClass } = fu.spec;
  return clusters
    .filter((c) => c.metadata.namespace === fu.metadata.namespace && !c.metadata.deletionTimestamp)
    .filter((c) => selectorIsEmpty(clusterSelector) || selectorMatches(clusterSelector!, c.metadata.labels))
    .map((cluster) => ({ cluster, topology: topologyOf(cluster) }))
    .filter((s) => clusterClass === undefined || s.topology?.class === clusterClass)
    .sort((a, b) => (a.cluster.metadata.name < b.cluster.metadata.name ? -1 : a.cluster.metadata.name > b.cluster.metadata.name ? 1 : 0));
}

/**
 * The status that freezes the plan: every selected cluster in its wave (in name order, so the canary is the first
 * by name), Pending, or Skipped when it has no topology to set. More clusters than a status can hold is refused:
 * the upgrade halts before touching any (narrow the selection, or split it over several FleetUpgrades).
 */
export function freezePlan(fu: FleetUpgrade, clusters: readonly Cluster[], now: Date): FleetUpgradeStatus {
  const selected = selectClusters(fu, clusters);
  const at = timestamp(now);
  const base = { ...fu.status, observedGeneration: fu.metadata.generation, startedAt: at };
  if (selected.length > MAX_FLEET_UPGRADE_CLUSTERS)
    return {
      ...base,
      phase: 'Halted',
      reason: 'TooManyClusters',
      message: `the selection matches ${selected.length} clusters; one FleetUpgrade holds at most ${MAX_FLEET_UPGRADE_CLUSTERS}`,
      completedAt: at,
      waves: [],
      clusters: [],
      counts: countClusters([]),
    };
  const sizes = splitWaves(selected.length, fu.spec.waves);
  const entries: FleetUpgradeCluster[] = [];
  let next = 0;
  sizes.forEach(({ size }, wave) => {
    for (const { cluster, topology } of selected.slice(next, next + size)) {
      const entry: FleetUpgradeCluster = { name: cluster.metadata.name, wave, phase: 'Pending' };
      if (cluster.metadata.uid) entry.uid = cluster.metadata.uid;
      if (topology?.version) entry.fromVersion = topology.version;
      entries.push(
        topology ? entry : { ...entry, phase: 'Skipped', reason: 'NoTopology', message: 'the Cluster has no spec.topology to upgrade', completedAt: at },
      );
    }
    next += size;
  });
  const waves: FleetUpgradeWave[] = sizes.map(({ name, size }) => ({ name, clusters: size, phase: 'Pending' }));
  return { ...base, phase: 'Progressing', currentWave: 0, waves, clusters: entries, counts: countClusters(entries) };
}
