/**
 * Where each cluster of a FleetUpgrade stands, read from its Cluster (the progress contract: the topology
 * planner's TopologyReconciled condition), and the halt rules. Pure: the objects and the time are passed in.
 */
import type { Condition } from '../../api/common.js';
import type { Cluster } from '../../api/cluster.js';
import type { FleetItemPhase, FleetUpgrade, FleetUpgradeCluster, FleetUpgradeCounts, FleetUpgradeSpec, FleetUpgradeWave } from '../../api/fleet-upgrade.js';
import type { MachineHealthCheck } from '../../api/machine-health-check.js';
import type { Machine } from '../../api/machine.js';
import { targetsOf } from '../healthcheck/targets.js';

/** Why a cluster of a FleetUpgrade ended as it did (Cluster API's reason style). */
export const FleetClusterReason = {
  Upgraded: 'Upgraded',
  ClusterDeleted: 'ClusterDeleted',
  ClusterDeleting: 'ClusterDeleting',
  /** The name now belongs to another Cluster than the one chosen at start. */
  ClusterReplaced: 'ClusterReplaced',
  NoTopology: 'NoTopology',
  ClusterFailed: 'ClusterFailed',
  MachinesUnhealthy: 'MachinesUnhealthy',
  Timeout: 'Timeout',
  /** The topology update itself was refused (the API's 422: a version skew, a class that does not fit). */
  UpdateRefused: 'UpdateRefused',
  Aborted: 'Aborted',
  Halted: 'Halted',
} as const;

/** The condition the topology planner keeps on a Cluster (the topology contract). */
export const TOPOLOGY_RECONCILED = 'TopologyReconciled';
/** Reasons of TopologyReconciled=False that no waiting cures: the cluster failed its upgrade. */
export const TOPOLOGY_FAILURE_REASONS: readonly string[] = ['ClusterClassNotFound', 'VariablesInvalid', 'TopologyInvalid'];

export function countClusters(clusters: readonly FleetUpgradeCluster[]): FleetUpgradeCounts {
  const n = (phase: FleetItemPhase) => clusters.filter((c) => c.phase === phase).length;
  return { total: clusters.length, pending: n('Pending'), inFlight: n('InFlight'), succeeded: n('Succeeded'), failed: n('Failed'), skipped: n('Skipped') };
}

export interface ClusterObservation {
  /** Undefined when no Cluster of the entry's name exists. */
  cluster?: Cluster;
  machines: readonly Machine[];
  healthChecks: readonly MachineHealthCheck[];
}

export type ClusterVerdict = { phase: FleetItemPhase; reason?: string; message?: string };

/** The Cluster is gone, being deleted, or another Cluster now has its name: the upgrade leaves it. */
export function skipReason(entry: Pick<FleetUpgradeCluster, 'uid'>, cluster: Cluster | undefined): ClusterVerdict | undefined {
  if (!cluster) return { phase: 'Skipped', reason: FleetClusterReason.ClusterDeleted, message: 'the Cluster is gone' };
  if (cluster.metadata.deletionTimestamp) return { phase: 'Skipped', reason: FleetClusterReason.ClusterDeleting, message: 'the Cluster is being deleted' };
  if (entry.uid && cluster.metadata.uid && entry.uid !== cluster.metadata.uid)
    return { phase: 'Skipped', reason: FleetClusterReason.ClusterReplaced, message: 'a Cluster of that name was made after the upgrade started' };
  return undefined;
}

/**
 * The largest share of machines one MachineHealthCheck of the cluster finds unhealthy (its targets with
 * HealthCheckSucceeded=False), in percent, and that health check's name.
 */
export function unhealthyMachinesPercent(observation: ClusterObservation): { percent: number; healthCheck?: string } {
  let worst: { percent: number; healthCheck?: string } = { percent: 0 };
  for (const mhc of observation.healthChecks) {
    const targets = targetsOf(mhc, observation.machines);
    if (targets.length === 0) continue;
    const unhealthy = targets.filter((m) => m.status?.conditions?.some((c) => c.type === 'HealthCheckSucceeded' && c.status === 'False')).length;
    const percent = (unhealthy * 100) / targets.length;
    if (percent > worst.percent) worst = { percent, healthCheck: mhc.metadata.name };
  }
  return worst;
}

const topologyReconciled = (cluster: Cluster): Condition | undefined => cluster.status?.conditions?.find((c) => c.type === TOPOLOGY_RECONCILED);

/**
 * Where an InFlight cluster stands: done when TopologyReconciled is True for the generation the update produced
 * (the planner sets it only once the control plane and every MachineDeployment finished rolling); failed when the
 * Cluster's phase is Failed, TopologyReconciled is False for a reason no waiting cures after the update, a health
 * check finds too many machines unhealthy, or the timeout passed; skipped when the Cluster is gone or deleting.
 * Note: failures are checked before success, and the timeout last, so a cluster that finished just after its
 * deadline but was seen only then still counts as upgraded.
 */
export function clusterProgress(entry: FleetUpgradeCluster, observation: ClusterObservation, spec: FleetUpgradeSpec, now: Date): ClusterVerdict {
  const skipped = skipReason(entry, observation.cluster);
  if (skipped) return skipped;
  const cluster = observation.cluster!;
  if (cluster.status?.phase === 'Failed')
    return { phase: 'Failed', reason: FleetClusterReason.ClusterFailed, message: cluster.status.failureMessage ?? 'the Cluster is Failed' };
  const generation = entry.generation ?? cluster.metadata.generation ?? 0;
  const condition = topologyReconciled(cluster);
  const current = condition !== undefined && (condition.observedGeneration ?? 0) >= generation;
  if (current && condition.status === 'False' && TOPOLOGY_FAILURE_REASONS.includes(condition.reason ?? ''))
    return { phase: 'Failed', reason: condition.reason!, message: condition.message ?? 'the topology cannot be reconciled' };
  if (spec.maxUnhealthyMachinesPercent !== undefined) {
    const { percent, healthCheck } = unhealthyMachinesPercent(observation);
    if (percent > spec.maxUnhealthyMachinesPercent)
      return {
        phase: 'Failed',
        reason: FleetClusterReason.MachinesUnhealthy,
        message: `MachineHealthCheck ${healthCheck} finds ${Math.round(percent)}% of its machines unhealthy, more than maxUnhealthyMachinesPercent ${spec.maxUnhealthyMachinesPercent}%`,
      };
  }
  if (current && condition.status === 'True') return { phase: 'Succeeded', reason: FleetClusterReason.Upgraded, message: `upgraded to ${spec.version}` };
  const started = entry.startedAt ? Date.parse(entry.startedAt) : now.getTime();
  if (now.getTime() - started >= spec.clusterTimeoutSeconds * 1000)
    return {
      phase: 'Failed',
      reason: FleetClusterReason.Timeout,
      message: `not upgraded within clusterTimeoutSeconds ${spec.clusterTimeoutSeconds}${condition?.message ? `: ${condition.message}` : ''}`,
    };
  return { phase: 'InFlight', ...(condition?.reason ? { reason: condition.reason } : {}), ...(condition?.message ? { message: condition.message } : {}) };
}

/** Failed clusters beyond maxFailedClusters halt the upgrade: no further cluster starts, and no further wave. */
export function haltDecision(
  clusters: readonly FleetUpgradeCluster[],
  spec: Pick<FleetUpgradeSpec, 'maxFailedClusters'>,
): { reason: string; message: string } | undefined {
  const failed = clusters.filter((c) => c.phase === 'Failed');
  if (failed.length <= spec.maxFailedClusters) return undefined;
  const names = failed.map((c) => c.name);
  return {
    reason: 'TooManyFailedClusters',
    message: `${failed.length} cluster(s) failed (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', ...' : ''}), more than maxFailedClusters ${spec.maxFailedClusters}`,
  };
}

/**
 * What happens to a Pending cluster when its turn comes: nothing more after an abort or a halt, nothing yet while
 * paused, skipped when its Cluster is gone, otherwise its topology is set.
 */
export type ClusterStart =
  | { action: 'stop'; reason: 'Aborted' | 'Halted' }
  /** Paused: the cluster stays Pending; the wave is run again once resumed. */
  | { action: 'hold' }
  | { action: 'skip'; verdict: ClusterVerdict }
  | { action: 'update'; topology: { version: string; class?: string } };

export function planClusterStart(fu: FleetUpgrade, entry: FleetUpgradeCluster, cluster: Cluster | undefined): ClusterStart {
  if (fu.spec.abort) return { action: 'stop', reason: 'Aborted' };
  if (fu.status?.phase === 'Halted' || haltDecision(fu.status?.clusters ?? [], fu.spec)) return { action: 'stop', reason: 'Halted' };
  if (fu.spec.paused) return { action: 'hold' };
  const skipped = skipReason(entry, cluster);
  if (skipped) return { action: 'skip', verdict: skipped };
  if (!cluster!.spec.topology)
    return { action: 'skip', verdict: { phase: 'Skipped', reason: FleetClusterReason.NoTopology, message: 'the Cluster has no spec.topology to upgrade' } };
  return { action: 'update', topology: { version: fu.spec.version, ...(fu.spec.class ? { class: fu.spec.class } : {}) } };
}

/** A wave is finished when none of its clusters is Pending or InFlight; it failed when one of them failed. */
export function waveOutcome(wave: number, clusters: readonly FleetUpgradeCluster[]): FleetItemPhase {
  const mine = clusters.filter((c) => c.wave === wave);
  if (mine.some((c) => c.phase === 'InFlight' || c.phase === 'Pending')) return 'InFlight';
  return mine.some((c) => c.phase === 'Failed') ? 'Failed' : 'Succeeded';
}

/** What the upgrade does next, between waves. */
export type NextWave =
  | { kind: 'done' }
  | { kind: 'abort' }
  | { kind: 'pause' }
  | { kind: 'bake'; seconds: number }
  | { kind: 'succeed' }
  | { kind: 'run'; wave: number };

/**
 * The next move between waves. The bake after a wave is waited out here, in poll-sized steps, rather than in one
 * long Wait: a pause or an abort during a bake is seen at once.
 */
export function nextWave(fu: FleetUpgrade, now: Date): NextWave {
  const phase = fu.status?.phase;
  if (phase === 'Succeeded' || phase === 'Halted' || phase === 'Aborted') return { kind: 'done' };
  if (fu.spec.abort) return { kind: 'abort' };
  const waves: readonly FleetUpgradeWave[] = fu.status?.waves ?? [];
  const wave = waves.findIndex((w) => w.phase === 'Pending' || w.phase === 'InFlight');
  if (wave < 0) return { kind: 'succeed' };
  // Paused: the clusters in flight were watched to their end by the wave's Map; those not started stay Pending.
  if (fu.spec.paused) return { kind: 'pause' };
  const bakeUntil = wave > 0 && waves[wave]!.phase === 'Pending' ? waves[wave - 1]!.bakeUntil : undefined;
  const left = bakeUntil ? Math.ceil((Date.parse(bakeUntil) - now.getTime()) / 1000) : 0;
  if (left > 0) return { kind: 'bake', seconds: left };
  return { kind: 'run', wave };
}
