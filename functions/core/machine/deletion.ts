/**
 * The teardown of a deleting Machine, one step per reconcile: drain the node, terminate the instance, then let
 * the Machine go. Learnt from Cluster API's core/reconcilers/machine/machine_controller.go (reconcileDelete,
 * isNodeDrainAllowed, nodeDrainTimeoutExceeded): the drain start is recorded once, the drain is given up when
 * nodeDrainTimeout has passed since then, and the node is never drained when the whole cluster goes.
 */
import type { Machine } from '../../api/machine.js';
import { isTrue, timestamp } from '../conditions.js';
import type { InstanceFact } from '../observed.js';
import type { Action, ObjectRef } from '../plan.js';
import { timeOf } from '../cluster/objects.js';
import { GONE_STATES, type NodeLookup } from './facts.js';

export const DeletingReason = {
  NotDeleting: 'NotDeleting',
  DrainingNode: 'DrainingNode',
  WaitingForInfrastructureDeletion: 'WaitingForInfrastructureDeletion',
  DeletionCompleted: 'DeletionCompleted',
} as const;

export interface DeletionInput {
  machine: Machine;
  ref: ObjectRef;
  instance: InstanceFact | undefined;
  lookup: NodeLookup;
  now: Date;
  controlPlane: boolean;
  /**
   * The cluster (or, for a control-plane machine, the whole control plane) is being deleted: no drain and no
   * etcd member removal, there is nothing left to move the pods or the quorum to
   * (Cluster API: isDeleteNodeAllowed -> errClusterIsBeingDeleted; KCP reconcileDelete drops the pre-terminate hook).
   */
  teardown: boolean;
}

export interface DeletionStep {
  reason: (typeof DeletingReason)[keyof typeof DeletingReason];
  message: string;
  actions: Action[];
  /** Set when the drain starts now and must be recorded (status.deletion.nodeDrainStartTime). */
  nodeDrainStartTime?: string;
  requeueAfterSeconds?: number;
  /** Nothing is left of the instance: the finalizer can go. */
  done: boolean;
}

export function deletionStep(input: DeletionInput): DeletionStep {
  const { machine, instance, lookup, now } = input;
  const instanceAlive = instance !== undefined && !GONE_STATES.includes(instance.state);
  const nodeName = lookup.node?.name ?? machine.status?.nodeRef?.name;

  // Drain: workers only, and only while there is a node to drain.
  const nodeGone = lookup.known && lookup.node === undefined;
  const drained = isTrue(machine.status?.conditions, 'DrainingSucceeded');
  if (!input.controlPlane && !input.teardown && instanceAlive && nodeName !== undefined && !nodeGone && !drained) {
    const recorded = machine.status?.deletion?.nodeDrainStartTime;
    const start = recorded ?? timestamp(now);
    const timeoutSeconds = machine.spec.nodeDrainTimeoutSeconds;
    const elapsed = (now.getTime() - timeOf(start)) / 1000;
    // Note: 0 means wait for the drain forever, as Cluster API's unset nodeDrainTimeout does.
    if (timeoutSeconds === 0 || elapsed < timeoutSeconds) {
      const remaining = timeoutSeconds === 0 ? 0 : Math.max(1, Math.ceil(timeoutSeconds - elapsed));
      return {
        reason: DeletingReason.DrainingNode,
        message: `Drain not completed yet (started at ${start})`,
        actions: [{ type: 'DrainNode', machine: input.ref, nodeName, timeoutSeconds: remaining }],
        ...(recorded === undefined ? { nodeDrainStartTime: start } : {}),
        ...(timeoutSeconds > 0 ? { requeueAfterSeconds: remaining } : {}),
        done: false,
      };
    }
  }

  if (instanceAlive) {
    const removeEtcdMember = input.controlPlane && !input.teardown && nodeName !== undefined ? { removeEtcdMember: nodeName } : {};
    return {
      reason: DeletingReason.WaitingForInfrastructureDeletion,
      message: `Waiting for instance ${instance.instanceId} to be terminated`,
      actions: [{ type: 'TerminateInstance', machine: input.ref, providerID: instance.providerID, ...removeEtcdMember }],
      done: false,
    };
  }
  if (instance?.state === 'shutting-down')
    return {
      reason: DeletingReason.WaitingForInfrastructureDeletion,
      message: `Waiting for instance ${instance.instanceId} to be terminated`,
      actions: [],
      done: false,
    };
  return { reason: DeletingReason.DeletionCompleted, message: 'Deletion completed', actions: [], done: true };
}
