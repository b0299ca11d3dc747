/**
 * Scaling the control plane one machine at a time, behind preflight checks that keep every operation waiting
 * for the previous one to settle. Learnt from Cluster API's controlplane/kubeadm/reconcilers/kubeadmcontrolplane/scale.go
 * (initializeControlPlane, scaleUpControlPlane, scaleDownControlPlane) and preflight.go (preflightChecks,
 * checkHealthiness, checkHealthinessWhileRemediationInProgress).
 */
import type { Machine } from '../../api/machine.js';
import { refOf } from '../plan.js';
import { isDeleting } from '../cluster/objects.js';
import { projectEtcdCluster } from './etcd.js';
import { etcdPreflightIssues } from './etcd-health.js';
import { newControlPlaneMachine, nextFailureDomainForScaleUp, nextMachineName } from './machines.js';
import { healthOf, waitStep, type ControlPlaneScope, type Step } from './scope.js';

/** Cluster API's preflightFailedRequeueAfter and deleteRequeueAfter. */
export const PREFLIGHT_REQUEUE_SECONDS = 15;
export const DELETE_REQUEUE_SECONDS = 10;

/**
 * Why the control plane is not stable enough for a change, or nothing. Stable means: no machine deleting, the
 * workload cluster readable, every machine (but the one about to go) with a Ready node, and, where the host reads
 * etcd, every member healthy and hosted by a machine.
 */
export function preflightIssues(scope: ControlPlaneScope, exclude?: Machine): { issues: string[]; deleting: boolean } {
  if (scope.machines.length === 0) return { issues: [], deleting: false };
  const deleting = scope.machines.filter(isDeleting);
  if (deleting.length > 0) return { issues: [`Waiting for machines to be deleted: ${deleting.map((m) => m.metadata.name).join(', ')}`], deleting: true };
  if (!scope.nodesKnown) return { issues: ['The workload cluster could not be read'], deleting: false };
  const issues: string[] = [];
  for (const m of scope.machines) {
    if (m === exclude) continue;
    const h = healthOf(scope, m);
    if (!h.hasNode) issues.push(`Machine ${m.metadata.name} does not have a Node yet`);
    else if (!h.nodeReady) issues.push(`Machine ${m.metadata.name} reports its Node is not Ready`);
  }
  issues.push(...etcdPreflightIssues(scope, exclude));
  return { issues, deleting: false };
}

export function scaleUp(scope: ControlPlaneScope, why: string, remediationInProgress: boolean): Step {
  const { cp, cluster, machines, now } = scope;
  if (machines.length > 0) {
    const { issues, deleting } = preflightIssues(scope);
    // Note: after a remediation deleted a broken machine the rest may not be fully healthy either (that is how
    // two machines fail together). Then the replacement may still join, if etcd keeps quorum with one more
    // member assumed unhealthy; without this a 3-machine control plane that lost one machine and has a second
    // one wobbling would never get its replacement.
    const relaxed = issues.length > 0 && !deleting && remediationInProgress && scope.nodesKnown && projectEtcdCluster(scope.members, { add: true }).safe;
    if (issues.length > 0 && !relaxed)
      return waitStep(`ControlPlane ${cp.metadata.name}: ${why} waits: ${issues.join('; ')}`, deleting ? DELETE_REQUEUE_SECONDS : PREFLIGHT_REQUEUE_SECONDS);
  }
  const fd = nextFailureDomainForScaleUp(scope.failureDomains, machines, cp);
  const name = nextMachineName(cp, machines, now);
  const machine = newControlPlaneMachine(cp, cluster, name, fd);
  return {
    writes: [{ type: 'Create', object: machine }],
    actions: [],
    notes: [`ControlPlane ${cp.metadata.name}: ${why}: creating Machine ${name}${fd ? ` in ${fd}` : ''}`],
  };
}

/**
 * Removes one machine, only when the others are stable and etcd keeps quorum without it: the remaining healthy
 * members must be a majority of the remaining members.
 */
export function scaleDown(scope: ControlPlaneScope, machine: Machine | undefined, why: string): Step {
  const { cp } = scope;
  if (!machine) return waitStep(`ControlPlane ${cp.metadata.name}: ${why}: no machine to remove`);
  const { issues, deleting } = preflightIssues(scope, machine);
  if (issues.length > 0)
    return waitStep(`ControlPlane ${cp.metadata.name}: ${why} waits: ${issues.join('; ')}`, deleting ? DELETE_REQUEUE_SECONDS : PREFLIGHT_REQUEUE_SECONDS);
  const projection = projectEtcdCluster(scope.members, { removeMachine: machine.metadata.name });
  if (!projection.safe)
    return waitStep(
      `ControlPlane ${cp.metadata.name}: ${why} waits: removing ${machine.metadata.name} would leave ${projection.healthy} healthy etcd member(s) of ${projection.voting}, quorum is ${projection.quorum}`,
      PREFLIGHT_REQUEUE_SECONDS,
    );
  return {
    writes: [{ type: 'Delete', ref: refOf(machine), reason: why }],
    actions: [],
    notes: [`ControlPlane ${cp.metadata.name}: ${why}: deleting Machine ${machine.metadata.name}`],
  };
}
