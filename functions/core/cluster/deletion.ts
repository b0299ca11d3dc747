/**
 * Deletion order of a cluster: workers first (MachineDeployments, then MachineSets, then stray worker
 * Machines), then the control plane, then the infrastructure, and the Cluster's finalizer last, only when
 * nothing of the cluster is left. Learnt from Cluster API's core/reconcilers/cluster/cluster_controller.go
 * (reconcileDelete: descendants first, then the control plane, then the InfrastructureCluster, then the
 * finalizer) and KCP's reconcileDelete, which waits for the workers before it deletes its machines.
 *
 * Note: each stage waits for the previous one to be gone, not just deleting. A control-plane machine deleted
 * while workers still drain would take the API server the drain needs with it: a 3-worker cluster deleted all
 * at once leaves its workers' drains hanging until their timeouts.
 */
import type { ApiObject } from '../../api/kind.js';
import type { Action, ObjectRef, Write } from '../plan.js';
import { refOf } from '../plan.js';
import type { Observed } from '../observed.js';
import { GONE_STATES } from '../machine/facts.js';
import { controlPlaneMachinesOf, isDeleting, workerMachinesOf, type ClusterObjects } from './objects.js';

export const ClusterDeletingReason = {
  NotDeleting: 'NotDeleting',
  WaitingForWorkersDeletion: 'WaitingForWorkersDeletion',
  WaitingForControlPlaneDeletion: 'WaitingForControlPlaneDeletion',
  WaitingForInfrastructureDeletion: 'WaitingForInfrastructureDeletion',
  DeletionCompleted: 'DeletionCompleted',
} as const;

export interface ClusterDeletionStep {
  reason: (typeof ClusterDeletingReason)[keyof typeof ClusterDeletingReason];
  message: string;
  writes: Write[];
  actions: Action[];
  /** Nothing of the cluster is left: its finalizer can go. */
  done: boolean;
}

const DELETE_REASON = 'its Cluster is being deleted';

function deleteAll(objs: readonly ApiObject[]): Write[] {
  return objs.filter((o) => !isDeleting(o)).map((o) => ({ type: 'Delete', ref: refOf(o), reason: DELETE_REASON }) as const);
}

function names(kind: string, objs: readonly ApiObject[]): string {
  return `* ${kind}: ${objs
    .map((o) => o.metadata.name)
    .sort()
    .join(', ')}`;
}

export function clusterDeletionStep(objects: ClusterObjects, observed: Observed, clusterRef: ObjectRef): ClusterDeletionStep {
  // Health checks go first and at once: nothing may remediate (recreate) a machine of a cluster going away.
  const healthChecks = deleteAll(objects.machineHealthChecks);
  const wait = (reason: ClusterDeletionStep['reason'], message: string, writes: Write[], actions: Action[] = []): ClusterDeletionStep => ({
    reason,
    message,
    writes: [...healthChecks, ...writes],
    actions,
    done: false,
  });

  if (objects.machineDeployments.length > 0)
    return wait(
      ClusterDeletingReason.WaitingForWorkersDeletion,
      names('MachineDeployments', objects.machineDeployments),
      deleteAll(objects.machineDeployments),
    );
  if (objects.machineSets.length > 0)
    return wait(ClusterDeletingReason.WaitingForWorkersDeletion, names('MachineSets', objects.machineSets), deleteAll(objects.machineSets));
  const workers = workerMachinesOf(objects);
  if (workers.length > 0) return wait(ClusterDeletingReason.WaitingForWorkersDeletion, names('Worker Machines', workers), deleteAll(workers));

  if (objects.controlPlane)
    return wait(
      ClusterDeletingReason.WaitingForControlPlaneDeletion,
      `Waiting for ControlPlane ${objects.controlPlane.metadata.name} to be deleted`,
      deleteAll([objects.controlPlane]),
    );
  const strayControlPlaneMachines = controlPlaneMachinesOf(objects);
  if (strayControlPlaneMachines.length > 0)
    return wait(
      ClusterDeletingReason.WaitingForControlPlaneDeletion,
      names('Control plane Machines', strayControlPlaneMachines),
      deleteAll(strayControlPlaneMachines),
    );
  if (objects.machineHealthChecks.length > 0)
    return wait(ClusterDeletingReason.WaitingForWorkersDeletion, names('MachineHealthChecks', objects.machineHealthChecks), []);

  const liveInstances = observed.instances.filter((i) => !GONE_STATES.includes(i.state));
  const stopping = observed.instances.filter((i) => i.state === 'shutting-down');
  if (observed.loadBalancer || liveInstances.length > 0) {
    const parts = [
      ...(observed.loadBalancer ? [`load balancer ${observed.loadBalancer.name}`] : []),
      ...(liveInstances.length > 0
        ? [
            `instances ${liveInstances
              .map((i) => i.instanceId)
              .sort()
              .join(', ')}`,
          ]
        : []),
    ];
    return wait(
      ClusterDeletingReason.WaitingForInfrastructureDeletion,
      `Waiting for ${parts.join(' and ')} to be deleted`,
      [],
      [
        {
          type: 'DeleteInfrastructure',
          cluster: clusterRef,
          ...(observed.loadBalancer ? { loadBalancer: observed.loadBalancer.name } : {}),
          instanceIds: liveInstances.map((i) => i.instanceId).sort(),
        },
      ],
    );
  }
  if (stopping.length > 0)
    return wait(
      ClusterDeletingReason.WaitingForInfrastructureDeletion,
      `Waiting for instances ${stopping
        .map((i) => i.instanceId)
        .sort()
        .join(', ')} to terminate`,
      [],
    );
  return { reason: ClusterDeletingReason.DeletionCompleted, message: 'Deletion completed', writes: [], actions: [], done: true };
}
