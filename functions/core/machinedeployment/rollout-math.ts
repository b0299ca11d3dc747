/**
 * The rollout arithmetic of Cluster API's mdutil (core/reconcilers/machinedeployment/mdutil/util.go),
 * which is Kubernetes' deployment util: maxSurge rounds up, maxUnavailable rounds down, and when both
 * resolve to 0 maxUnavailable becomes 1 (ResolveFenceposts), so a rollout can always make progress.
 */
import { scaledValue, type IntOrPercent } from '../../api/common.js';
import type { MachineDeployment } from '../../api/machine-deployment.js';

/**
 * A MachineSet as the rollout math sees it. Counters come from the machines observed in this reconcile,
 * not from a stored status, so they are never stale.
 */
export interface MachineSetReplicas {
  name: string;
  /** Epoch milliseconds of creation (now, for a set this plan creates): old sets scale down oldest first. */
  createdAt: number;
  /** spec.replicas as read. */
  replicas: number;
  /** Machines that exist, deleting ones included until they are gone (Cluster API's status.replicas). */
  actual: number;
  /** Machines Ready for at least minReadySeconds. */
  available: number;
  /**
   * How many available machines a scale-down to `replicas` deletes, from the set's own deletion order.
   * When absent the planner assumes the worst, as Cluster API does: every deletion hits an available machine.
   */
  availableRemovedAt?: (replicas: number) => number;
  /** The clusterless.dev/max-replicas annotation (the deployment's replicas + maxSurge when last scaled). */
  maxReplicasAnnotation?: number;
  /** The clusterless.dev/desired-replicas annotation (the deployment's replicas when last scaled). */
  desiredReplicasAnnotation?: number;
}

export type StrategyType = MachineDeployment['spec']['strategy']['type'];

export interface Fenceposts {
  surge: number;
  unavailable: number;
}

/**
 * Resolves maxSurge (rounded up) and maxUnavailable (rounded down) against `desired`. When both come out 0
 * (e.g. 10% of 3 and 0), maxUnavailable is 1 "on the theory that surge might not work due to quota"
 * (ResolveFenceposts).
 */
export function resolveFenceposts(maxSurge: IntOrPercent, maxUnavailable: IntOrPercent, desired: number): Fenceposts {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function rollingUpdateOf(md: MachineDeployment) {
  const s = md.spec.strategy;
  return s.type === 'RollingUpdate' ? (s.rollingUpdate ?? { maxSurge: 1, maxUnavailable: 0 }) : undefined;
}

/** MaxSurge: 0 unless the strategy is RollingUpdate. */
export function maxSurge(md: MachineDeployment): number {
  const ru = rollingUpdateOf(md);
  return ru ? resolveFenceposts(ru.maxSurge, ru.maxUnavailable, md.spec.replicas).surge : 0;
}

/** MaxUnavailable: 0 unless the strategy is RollingUpdate and replicas > 0; never more than replicas. */
export function maxUnavailable(md: MachineDeployment): number {
  const ru = rollingUpdateOf(md);
  if (!ru || md.spec.replicas === 0) return 0;
  return Math.min(resolveFenceposts(ru.maxSurge, ru.maxUnavailable, md.spec.replicas).unavailable, md.spec.replicas);
}

/**
 * Sum of max(spec.replicas, actual) over the sets (TotalMachineSetsReplicaSum): the machines that exist or
 * are about to, which is what maxSurge bounds. Spec covers a scale-up whose machines do not exist yet, actual
 * covers a scale-down whose machines are still there.
 */
export function totalReplicaSum(sets: readonly MachineSetReplicas[]): number {
  let total = 0;
  for (const ms of sets) total += Math.max(ms.replicas, ms.actual);
  return total;
}

/**
 * The replicas of the new MachineSet after this step (NewMSNewReplicas), with Cluster API's note:
 * RollingUpdate adds up to replicas + maxSurge machines in all, OnDelete only up to replicas.
 */
export function newMSNewReplicas(
  strategy: StrategyType,
  deploymentReplicas: number,
  maxSurge: number,
  allSets: readonly MachineSetReplicas[],
  newMSReplicas: number,
): { replicas: number; note: string } {
  const current = totalReplicaSum(allSets);
  if (strategy === 'OnDelete') {
    if (current >= deploymentReplicas)
      return { replicas: newMSReplicas, note: `${current} current Machines >= ${deploymentReplicas} MachineDeployment spec.replicas` };
    return {
      replicas: newMSReplicas + deploymentReplicas - current,
      note: `${current} current Machines < ${deploymentReplicas} MachineDeployment spec.replicas`,
    };
  }
  const maxTotal = deploymentReplicas + maxSurge;
  if (current >= maxTotal)
    return { replicas: newMSReplicas, note: `${current} current Machines >= ${deploymentReplicas} MachineDeployment spec.replicas + ${maxSurge} maxSurge` };
  const scaleUp = Math.min(maxTotal - current, deploymentReplicas - newMSReplicas);
  return {
    replicas: newMSReplicas + scaleUp,
    note: `${current} current Machines < ${deploymentReplicas} MachineDeployment spec.replicas + ${maxSurge} maxSurge`,
  };
}

/**
 * A rollout is complete when every desired replica is updated and available and no old machine is left
 * (DeploymentComplete; the observedGeneration check is implicit: the counters are computed now).
 */
export function deploymentComplete(replicas: number, status: { replicas: number; updatedReplicas: number; availableReplicas: number }): boolean {
  return status.updatedReplicas === replicas && status.replicas === replicas && status.availableReplicas === replicas;
}

/**
 * Whether a MachineDeployment's recorded status says its rollout is complete: the status observes the current
 * generation and its counters pass deploymentComplete. What the sweep and the rolling-upgrade workflow ask of a
 * stored object (the planner asks deploymentComplete of counters it computes).
 */
export function machineDeploymentRolloutComplete(md: Pick<MachineDeployment, 'metadata' | 'spec' | 'status'>): boolean {
  const s = md.status;
  if (s === undefined || (s.observedGeneration ?? 0) < (md.metadata.generation ?? 0)) return false;
  if (s.replicas === undefined || s.updatedReplicas === undefined || s.availableReplicas === undefined) return false;
  return deploymentComplete(md.spec.replicas, { replicas: s.replicas, updatedReplicas: s.updatedReplicas, availableReplicas: s.availableReplicas });
}

/** Oldest first, name as the tie breaker (MachineSetsByCreationTimestamp). */
export function byCreation(a: MachineSetReplicas, b: MachineSetReplicas): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
