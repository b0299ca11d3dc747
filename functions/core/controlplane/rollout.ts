/**
 * Rolling upgrade of the control plane, one machine at a time. Learnt from Cluster API's
 * controlplane/kubeadm/reconcilers/kubeadmcontrolplane/update.go (rollingUpdate): below replicas + maxSurge machines it
 * adds an up-to-date machine, at or above it removes an outdated one, and every step waits (preflight checks)
 * for the previous one to settle.
 *
 * maxSurge 1 adds the new machine first (3 -> 4 -> 3), so etcd never drops below its size; maxSurge 0 removes
 * first (3 -> 2 -> 3), for clusters without spare capacity, and only when the two that remain are healthy.
 */
import { healthOf, type ControlPlaneScope, type Step } from './scope.js';
import { selectMachineForScaleDown } from './machines.js';
import { scaleDown, scaleUp } from './scale.js';
import { clusterConfigurationUpdate } from './kubeadm-objects.js';

/**
 * The surge actually used. Note: removing first from a control plane of one machine would take etcd to zero
 * members; Cluster API's webhook refuses maxSurge 0 below 3 replicas for that reason. The API here accepts it,
 * so the planner surges instead of deadlocking.
 */
export function effectiveMaxSurge(scope: ControlPlaneScope): { maxSurge: 0 | 1; note?: string } {
  const requested = scope.cp.spec.rollout.maxSurge;
  if (requested === 0 && scope.desiredReplicas < 3)
    return { maxSurge: 1, note: `ControlPlane ${scope.cp.metadata.name}: maxSurge 0 needs at least 3 replicas, surging by 1 instead` };
  return { maxSurge: requested };
}

export function rollingUpdate(scope: ControlPlaneScope, remediationInProgress: boolean): Step {
  const { cp, machines, outdated } = scope;
  const { maxSurge, note } = effectiveMaxSurge(scope);
  const why = `rolling out ${outdated.length} outdated machine(s) to ${cp.spec.version}`;
  const adding = machines.length < scope.desiredReplicas + maxSurge;
  // kubeadm join reads the cluster's ClusterConfiguration: it names the version before a machine of it joins.
  const configuration = adding ? clusterConfigurationUpdate(scope) : undefined;
  if (configuration)
    return {
      writes: [],
      actions: [configuration],
      notes: [`ControlPlane ${cp.metadata.name}: ${why} waits: bringing kubeadm-config's ClusterConfiguration to ${cp.spec.version} first`],
      waiting: `bringing kubeadm-config's ClusterConfiguration to ${cp.spec.version} first`,
      requeueAfterSeconds: 5,
    };
  const step = adding
    ? scaleUp(scope, why, remediationInProgress)
    : scaleDown(
        scope,
        selectMachineForScaleDown(scope.failureDomains, machines, outdated, (m) => healthOf(scope, m).nodeReady),
        why,
      );
  if (note) step.notes.unshift(note);
  return step;
}
