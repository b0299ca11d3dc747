/**
 * The ControlPlane planner: one operation per reconcile, in Cluster API's order
 * (controlplane/kubeadm/reconcilers/kubeadmcontrolplane/kubeadmcontrolplane_controller.go, reconcile and reconcileDelete): wait for the
 * cluster's infrastructure; remediate an unhealthy machine; roll out outdated machines; create the first
 * machine, scale up, scale down. Every operation that adds or removes a machine waits for the one before to
 * settle, and no removal may cost etcd its quorum.
 */
import { Finalizers } from '../../api/common.js';
import type { Observed } from '../observed.js';
import { emptyPlan, refOf, type Plan } from '../plan.js';
import { isDeleting, isPaused, statusWrite, workerMachinesOf, type ClusterObjects } from '../cluster/objects.js';
import { reconcileUnhealthyMachines } from './remediation.js';
import { rollingUpdate } from './rollout.js';
import type { Machine } from '../../api/machine.js';
import { DELETE_REQUEUE_SECONDS, PREFLIGHT_REQUEUE_SECONDS, scaleDown, scaleUp } from './scale.js';
import { selectMachineForScaleDown } from './machines.js';
import { controlPlaneScope, emptyStep, healthOf, waitStep, type ControlPlaneScope, type Step } from './scope.js';
import { controlPlaneStatus } from './status.js';
import { machineEtcdConditionWrites, orphanEtcdMember, quorumLost } from './etcd-health.js';
import { addonsUpdate } from './kubeadm-objects.js';
import { canonicalJson } from '../../api/kind.js';
import { withTeardownTimeouts } from '../machine/deletion.js';

/** How often a control plane whose etcd lost its quorum is looked at again. */
export const QUORUM_LOST_REQUEUE_SECONDS = 60;

/** Plans the cluster's ControlPlane, if it has one. */
export function planControlPlane(objects: ClusterObjects, observed: Observed, now: Date): Plan {
  const cp = objects.controlPlane;
  const plan = emptyPlan();
  if (!cp) return plan;
  if (isPaused(objects.cluster, cp)) {
    plan.notes.push(`ControlPlane ${cp.metadata.name}: paused, nothing done`);
    return plan;
  }
  const scope = controlPlaneScope(objects, cp, observed, now);
  if (isDeleting(cp)) return planDeletion(scope);

  const remediation = reconcileUnhealthyMachines(scope);
  const lost = quorumLost(scope);
  const orphan = orphanEtcdMember(scope);
  let step: Step;
  if (!objects.cluster.status?.infrastructureReady) step = waitStep(`ControlPlane ${cp.metadata.name}: waiting for the cluster infrastructure to be ready`);
  // Decided: a failure that costs etcd its quorum (a second one during a remediation, say) stops every operation
  // of the control plane; it is reported, and looked at again each minute in case members come back.
  else if (lost) step = waitStep(`ControlPlane ${cp.metadata.name}: ${lost}`, QUORUM_LOST_REQUEUE_SECONDS);
  // A member no machine hosts goes first (KCP reconcileEtcdMembers, before remediation and scaling).
  else if (orphan)
    step = {
      writes: [],
      actions: [{ type: 'RemoveEtcdMember', cluster: refOf(objects.cluster), member: orphan }],
      notes: [`ControlPlane ${cp.metadata.name}: removing etcd member ${orphan}, which no machine hosts`],
      requeueAfterSeconds: PREFLIGHT_REQUEUE_SECONDS,
    };
  else if (remediation.step) step = remediation.step;
  else step = scaleOrRollout(scope, remediation.inProgress);

  const status = controlPlaneStatus(scope, {
    ...(step.waiting ? { waiting: step.waiting } : {}),
    remediating: [...remediation.requests.entries()].map(([m, r]) => `* Machine ${m}: ${r.reason} (MachineHealthCheck ${r.healthCheck})`),
    remediationInProgress: remediation.inProgress,
    ...(remediation.lastRemediation ? { lastRemediation: remediation.lastRemediation } : {}),
  });
  // A machine the step writes gets the timeout at the next reconcile: one write per object and plan.
  const written = new Set(step.writes.map((w) => ('object' in w ? `${w.object.kind}/${w.object.metadata.name}` : `${w.ref.kind}/${w.ref.name}`)));
  const inPlace = inPlaceWrites(scope).filter((w) => !written.has(`Machine/${w.object.metadata.name}`));
  plan.writes.push(...statusWrite(cp, status), ...machineEtcdConditionWrites(scope), ...inPlace, ...step.writes);
  plan.actions.push(...step.actions);
  const addons = lost ? undefined : addonsUpdate(scope);
  if (addons) plan.actions.push(addons);
  plan.notes.push(...remediation.notes, ...step.notes);
  const requeue = [remediation.requeueAfterSeconds, step.requeueAfterSeconds].filter((n): n is number => n !== undefined);
  if (requeue.length > 0) plan.requeueAfterSeconds = Math.min(...requeue);
  return plan;
}

/**
 * The teardown timeouts (node drain, volume detach, node deletion) reach the control plane's machines in place, deleting ones included (their teardown
 * reads it): a change of it rolls nothing. Learnt from cluster-api controlplane/kubeadm/internal/controllers
 * (syncMachines: KubeadmControlPlane propagates nodeDrainTimeout, nodeVolumeDetachTimeout and
 * nodeDeletionTimeout to existing machines without a rollout).
 */
function inPlaceWrites(scope: ControlPlaneScope): { type: 'Update'; object: Machine }[] {
  return scope.machines.flatMap((m) => {
    const spec = withTeardownTimeouts(m.spec, scope.cp.spec);
    return canonicalJson(spec) === canonicalJson(m.spec) ? [] : [{ type: 'Update' as const, object: { ...m, spec } }];
  });
}

/** Rollout takes precedence over scaling, as in Cluster API; the first machine needs no preflight. */
function scaleOrRollout(scope: ControlPlaneScope, remediationInProgress: boolean): Step {
  const { machines, desiredReplicas } = scope;
  if (scope.outdated.length > 0) return rollingUpdate(scope, remediationInProgress);
  if (machines.length === 0 && desiredReplicas > 0) return scaleUp(scope, 'initializing the control plane', remediationInProgress);
  if (machines.length < desiredReplicas) return scaleUp(scope, `scaling up from ${machines.length} to ${desiredReplicas}`, remediationInProgress);
  if (machines.length > desiredReplicas)
    return scaleDown(
      scope,
      selectMachineForScaleDown(scope.failureDomains, machines, [], (m) => healthOf(scope, m).nodeReady),
      `scaling down from ${machines.length} to ${desiredReplicas}`,
    );
  return emptyStep();
}

/**
 * Deleting the control plane: the workers go first (their drains need the API server), then every
 * control-plane machine at once, then the finalizer (KCP reconcileDelete).
 */
function planDeletion(scope: ControlPlaneScope): Plan {
  const { cp, objects, machines } = scope;
  const plan = emptyPlan();
  const workers = workerMachinesOf(objects);
  let message: string;
  if (workers.length > 0) {
    message = `Waiting for worker machines to be deleted first: ${workers
      .map((m) => m.metadata.name)
      .sort()
      .join(', ')}`;
    plan.requeueAfterSeconds = DELETE_REQUEUE_SECONDS;
  } else if (machines.length > 0) {
    message = `Deleting ${machines.length} machine(s)`;
    for (const m of machines) if (!isDeleting(m)) plan.writes.push({ type: 'Delete', ref: refOf(m), reason: 'its ControlPlane is being deleted' });
  } else message = 'Deletion completed';
  const status = controlPlaneStatus(scope, { remediating: [], remediationInProgress: false, deletingMessage: message });
  plan.writes.unshift(...statusWrite(cp, status));
  plan.notes.push(`ControlPlane ${cp.metadata.name}: ${message}`);
  if (machines.length === 0 && workers.length === 0 && (cp.metadata.finalizers ?? []).includes(Finalizers.controlPlane))
    plan.writes.push({ type: 'RemoveFinalizer', ref: refOf(cp), finalizer: Finalizers.controlPlane });
  return plan;
}
