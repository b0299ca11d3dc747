/**
 * The machines a MachineHealthCheck watches and whether each needs remediation, with the time of its next
 * check. Learnt from Cluster API's core/reconcilers/machinehealthcheck/machinehealthcheck_targets.go
 * (getTargetsFromMHC, needsRemediation, nodeChecks, healthCheckTargets, shouldSkipRemediation).
 */
import type { Cluster } from '../../api/cluster.js';
import { Annotations, durationSeconds, selectorMatches } from '../../api/common.js';
import type { MachineHealthCheck } from '../../api/machine-health-check.js';
import type { Machine } from '../../api/machine.js';
import { getCondition, isTrue } from '../conditions.js';
import type { NodeFact, Observed } from '../observed.js';
import { hasAnnotation, isControlPlaneMachine, isDeleting, isPaused, timeOf } from '../cluster/objects.js';
import { nodeOf } from '../machine/facts.js';

export const HealthCheckReason = {
  HealthCheckSucceeded: 'HealthCheckSucceeded',
  HasRemediateAnnotation: 'HasRemediateAnnotation',
  NodeStartupTimeout: 'NodeStartupTimeout',
  UnhealthyNode: 'UnhealthyNode',
  NodeDeleted: 'NodeDeleted',
  /** Cluster API v1beta1 remediated machines with a failureReason; the Machine here still reports one. */
  MachineHasFailure: 'MachineHasFailure',
} as const;
export type HealthCheckReason = (typeof HealthCheckReason)[keyof typeof HealthCheckReason];

/**
 * The machines of the health check's cluster its selector matches, control-plane machines included when the
 * selector selects them. Machines with the skip-remediation or paused annotation are not targets at all.
 */
export function targetsOf(mhc: MachineHealthCheck, machines: readonly Machine[]): Machine[] {
  return machines.filter(
    (m) =>
      m.spec.clusterName === mhc.spec.clusterName &&
      m.metadata.namespace === mhc.metadata.namespace &&
      selectorMatches(mhc.spec.selector, m.metadata.labels) &&
      !hasAnnotation(m, Annotations.skipRemediation) &&
      !isPaused(undefined, m),
  );
}

export interface HealthCheckTarget {
  machine: Machine;
  node?: NodeFact;
  /** The machine had a node (status.nodeRef) and the workload cluster no longer has it. */
  nodeMissing: boolean;
}

export interface RemediationNeed {
  unhealthy: boolean;
  reason?: HealthCheckReason;
  message?: string;
  /** Seconds until a degraded target would cross its timeout; 0 when there is nothing to wait for. */
  nextCheckSeconds: number;
}

/**
 * Whether the target needs remediation now. A bad node condition counts only once it has lasted longer than
 * its timeout; a machine without a node counts once nodeStartupTimeout has passed since the latest of its
 * creation, its infrastructure becoming ready, the cluster's infrastructure becoming ready and the control
 * plane being initialized. Nothing but the remediate-machine annotation counts before the cluster is ready,
 * except control-plane machines, so that a first control-plane machine that never comes up is replaced.
 */
export function needsRemediation(target: HealthCheckTarget, mhc: MachineHealthCheck, cluster: Cluster, now: Date): RemediationNeed {
  const { machine } = target;
  const nowMs = now.getTime();
  if (hasAnnotation(machine, Annotations.remediateMachine))
    return {
      unhealthy: true,
      reason: HealthCheckReason.HasRemediateAnnotation,
      message: `Health check failed: marked for remediation via ${Annotations.remediateMachine} annotation`,
      nextCheckSeconds: 0,
    };
  const clusterConditions = cluster.status?.conditions;
  if (!isTrue(clusterConditions, 'ControlPlaneInitialized') && !isControlPlaneMachine(machine)) return { unhealthy: false, nextCheckSeconds: 0 };
  if (!isTrue(clusterConditions, 'InfrastructureReady')) return { unhealthy: false, nextCheckSeconds: 0 };

  if (machine.status?.failureReason !== undefined)
    return {
      unhealthy: true,
      reason: HealthCheckReason.MachineHasFailure,
      message: `Health check failed:\n  * Machine has failed: ${machine.status.failureReason}: ${machine.status.failureMessage ?? ''}`.trimEnd(),
      nextCheckSeconds: 0,
    };

  if (target.nodeMissing)
    return {
      unhealthy: true,
      reason: HealthCheckReason.NodeDeleted,
      message: `Health check failed:\n  * Node ${machine.status?.nodeRef?.name ?? ''} has been deleted`,
      nextCheckSeconds: 0,
    };

  if (!target.node) {
    const timeout = durationSeconds(mhc.spec.nodeStartupTimeout);
    // "0s" disables the startup check: without a node there is then nothing to time.
    if (timeout === 0) return { unhealthy: false, nextCheckSeconds: 0 };
    let since = timeOf(machine.metadata.creationTimestamp);
    for (const c of [
      getCondition(clusterConditions, 'ControlPlaneInitialized'),
      getCondition(clusterConditions, 'InfrastructureReady'),
      getCondition(machine.status?.conditions, 'InfrastructureReady'),
    ])
      if (c?.status === 'True') since = Math.max(since, timeOf(c.lastTransitionTime));
    if (since + timeout * 1000 < nowMs)
      return {
        unhealthy: true,
        reason: HealthCheckReason.NodeStartupTimeout,
        message: `Health check failed:\n  * Node failed to report startup in ${formatDuration(timeout)}`,
        nextCheckSeconds: 0,
      };
    return { unhealthy: false, nextCheckSeconds: secondsUntil(since + timeout * 1000, nowMs) };
  }

  const bad: string[] = [];
  let next = 0;
  for (const uc of mhc.spec.unhealthyConditions) {
    const c = target.node.conditions.find((x) => x.type === uc.type);
    if (!c || c.status !== uc.status) continue;
    const timeout = durationSeconds(uc.timeout);
    const since = timeOf(c.lastTransitionTime);
    if (since + timeout * 1000 < nowMs) {
      bad.push(`Condition ${uc.type} on Node is reporting status ${uc.status} with reason ${c.reason ?? ''} for more than ${formatDuration(timeout)}`);
      continue;
    }
    const n = secondsUntil(since + timeout * 1000, nowMs);
    next = next === 0 ? n : Math.min(next, n);
  }
  if (bad.length > 0)
    return {
      unhealthy: true,
      reason: HealthCheckReason.UnhealthyNode,
      message: `Health check failed:\n${bad.map((b) => `  * ${b}`).join('\n')}`,
      nextCheckSeconds: 0,
    };
  return { unhealthy: false, nextCheckSeconds: next };
}

/** Cluster API checks again one second after the deadline, the first moment the timeout is strictly exceeded. */
function secondsUntil(deadlineMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((deadlineMs - nowMs) / 1000) + 1);
}

/** Durations as Go prints them in Cluster API's messages: 5m0s, 10m0s, 45s. */
export function formatDuration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

export type TargetState = 'healthy' | 'unhealthy' | 'degraded' | 'deleting' | 'unknown';

export interface TargetHealth extends RemediationNeed {
  machine: Machine;
  state: TargetState;
}

export interface TargetsHealth {
  /** False when the workload cluster could not be read although it should answer: nothing can be concluded. */
  evaluated: boolean;
  targets: TargetHealth[];
  /** The earliest moment a degraded target would cross its timeout, in seconds; undefined when none. */
  nextCheckSeconds?: number;
}

/**
 * Health checks every target (healthCheckTargets). A target is healthy only when it has a node, is not deleting
 * and is neither unhealthy nor on its way to a timeout; everything else counts against maxUnhealthy, as in
 * Cluster API ("the number of not started or unhealthy machines").
 */
export function healthCheckTargets(mhc: MachineHealthCheck, cluster: Cluster, machines: readonly Machine[], observed: Observed, now: Date): TargetsHealth {
  const controlPlaneInitialized = isTrue(cluster.status?.conditions, 'ControlPlaneInitialized');
  // Note: before the control plane answers there are no nodes to read; every target then simply has no node
  // yet. After it, an unreadable workload cluster says nothing about the nodes: a failed read must never look
  // like every node being deleted at once (Cluster API returns an error and remediates nothing).
  if (observed.nodes === undefined && controlPlaneInitialized) return { evaluated: false, targets: [] };
  const view: Observed = observed.nodes === undefined ? { ...observed, nodes: [] } : observed;
  const targets: TargetHealth[] = [];
  let next: number | undefined;
  for (const machine of targetsOf(mhc, machines)) {
    const lookup = nodeOf(machine, view);
    const target: HealthCheckTarget = {
      machine,
      ...(lookup.node ? { node: lookup.node } : {}),
      nodeMissing: !lookup.node && machine.status?.nodeRef !== undefined && observed.nodes !== undefined,
    };
    if (isDeleting(machine)) {
      targets.push({ machine, state: 'deleting', unhealthy: false, nextCheckSeconds: 0 });
      continue;
    }
    const need = needsRemediation(target, mhc, cluster, now);
    const state: TargetState = need.unhealthy ? 'unhealthy' : need.nextCheckSeconds > 0 ? 'degraded' : target.node ? 'healthy' : 'unknown';
    if (need.nextCheckSeconds > 0) next = next === undefined ? need.nextCheckSeconds : Math.min(next, need.nextCheckSeconds);
    targets.push({ machine, state, ...need });
  }
  return { evaluated: true, targets, ...(next !== undefined ? { nextCheckSeconds: next } : {}) };
}
