/**
 * The teardown of a deleting Machine, one step per reconcile: drain the node, terminate the instance, then let
 * the Machine go. Learnt from Cluster API's core/reconcilers/machine/machine_controller.go (reconcileDelete,
 * isNodeDrainAllowed, nodeDrainTimeoutExceeded): the drain start is recorded once, the drain is given up when
 * nodeDrainTimeout has passed since then, and the node is never drained when the whole cluster goes.
 *
 * Only what is the machine's own by tag is acted on: the instance found by its uid tag, and the node of such an
 * instance (by providerID). A nodeRef, spec.providerID or status.infrastructure.instanceId that names another
 * machine's node or instance (any writer of the Machine can set them) drains, deregisters and terminates nothing.
 */
import type { Machine } from '../../api/machine.js';
import { ConditionType, isTrue, timestamp } from '../conditions.js';
import type { InstanceFact } from '../observed.js';
import type { Action, ObjectRef } from '../plan.js';
import { timeOf } from '../cluster/objects.js';
import { GONE_STATES, type MachineEtcdMember, type NodeLookup } from './facts.js';
import { cappedDrainTimeoutSeconds } from './interruption.js';

/** How soon to look again for a node that could not be read, when no drain timeout brings the next look. */
const NODE_READ_RETRY_SECONDS = 30;
/** How soon to look again at an etcd member being removed, or at an etcd that could not be read. */
const ETCD_RETRY_SECONDS = 15;

export const DeletingReason = {
  NotDeleting: 'NotDeleting',
  DrainingNode: 'DrainingNode',
  /** Cluster API's reason while a pre-terminate hook holds the machine: here, its etcd member's removal. */
  WaitingForPreTerminateHook: 'WaitingForPreTerminateHook',
  WaitingForInfrastructureDeletion: 'WaitingForInfrastructureDeletion',
  DeletionCompleted: 'DeletionCompleted',
} as const;

/** Set on a Machine whose status named an instance that is not its own (the workflow that refused it sets it). */
export const InfrastructureOwnedCondition = ConditionType.InfrastructureOwned;
export const InfrastructureOwnedReason = { InstanceNotOwned: 'InstanceNotOwned' } as const;

export interface DeletionInput {
  machine: Machine;
  ref: ObjectRef;
  /** The machine's own instance (ownInstanceOf: found by its uid tag). */
  instance: InstanceFact | undefined;
  /** The node of the machine's own instance (ownNodeOf). */
  lookup: NodeLookup;
  now: Date;
  controlPlane: boolean;
  /**
   * The cluster (or, for a control-plane machine, the whole control plane) is being deleted: no drain and no etcd
   * member named on the TerminateInstance, there is nothing left to move the pods or the quorum to
   * (Cluster API: isDeleteNodeAllowed -> errClusterIsBeingDeleted; KCP reconcileDelete drops the pre-terminate hook).
   */
  teardown: boolean;
  /** What etcd says of the machine's member (control-plane machines; `{ read: 'none' }` for the others). */
  etcd?: MachineEtcdMember;
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
  // Only a node seen on the machine's own instance; while nodes cannot be read, one the machine had (nodeRef) may
  // still be there, but which one it is cannot be checked: the drain waits for a read instead of trusting the name.
  const nodeName = lookup.node?.name;
  const unreadNode = !lookup.known && machine.status?.nodeRef !== undefined;

  // Drain: workers only, and only while there is a node to drain.
  const drained = isTrue(machine.status?.conditions, 'DrainingSucceeded');
  if (!input.controlPlane && !input.teardown && instanceAlive && (nodeName !== undefined || unreadNode) && !drained) {
    const recorded = machine.status?.deletion?.nodeDrainStartTime;
    const start = recorded ?? timestamp(now);
    // A spot interruption warning caps the drain so that it ends before EC2 reclaims the instance.
    const capped = cappedDrainTimeoutSeconds(machine, start);
    const timeoutSeconds = capped ?? machine.spec.nodeDrainTimeoutSeconds;
    const elapsed = (now.getTime() - timeOf(start)) / 1000;
    // Note: 0 means wait for the drain forever, as Cluster API's unset nodeDrainTimeout does (never when capped:
    // then it means no time is left to drain).
    if (capped !== 0 && (timeoutSeconds === 0 || elapsed < timeoutSeconds)) {
      const remaining = timeoutSeconds === 0 ? 0 : Math.max(1, Math.ceil(timeoutSeconds - elapsed));
      return {
        reason: DeletingReason.DrainingNode,
        message: nodeName !== undefined ? `Drain not completed yet (started at ${start})` : `Waiting to read the node to drain it (started at ${start})`,
        actions: nodeName !== undefined ? [{ type: 'DrainNode', machine: input.ref, nodeName, timeoutSeconds: remaining }] : [],
        ...(recorded === undefined ? { nodeDrainStartTime: start } : {}),
        ...(timeoutSeconds > 0 ? { requeueAfterSeconds: remaining } : nodeName === undefined ? { requeueAfterSeconds: NODE_READ_RETRY_SECONDS } : {}),
        done: false,
      };
    }
  }

  // The machine's etcd member leaves before its instance does, and before the Machine goes if the instance is gone
  // already (KCP's pre-terminate hook: controlplane/kubeadm/internal/controllers/controller.go
  // reconcilePreTerminateHook), so that a dead member never counts against the quorum of the members that remain.
  const etcd = input.controlPlane && !input.teardown ? input.etcd : undefined;
  if (etcd?.read === 'failed')
    return {
      reason: DeletingReason.WaitingForPreTerminateHook,
      message: `Waiting to read etcd to remove this machine's member: ${etcd.message}`,
      actions: [],
      requeueAfterSeconds: ETCD_RETRY_SECONDS,
      done: false,
    };
  if (etcd?.read === 'ok' && etcd.member)
    return {
      reason: DeletingReason.WaitingForPreTerminateHook,
      message: `Waiting for etcd member ${etcd.member.name} to be removed`,
      actions: [
        {
          type: 'RemoveEtcdMember',
          cluster: { kind: 'Cluster', namespace: input.ref.namespace, name: input.machine.spec.clusterName },
          member: etcd.member.name,
          machine: input.ref,
        },
      ],
      requeueAfterSeconds: ETCD_RETRY_SECONDS,
      done: false,
    };

  if (instanceAlive)
    return {
      reason: DeletingReason.WaitingForInfrastructureDeletion,
      message: `Waiting for instance ${instance.instanceId} to be terminated`,
      actions: [{ type: 'TerminateInstance', machine: input.ref, providerID: instance.providerID }],
      done: false,
    };
  if (instance?.state === 'shutting-down')
    return {
      reason: DeletingReason.WaitingForInfrastructureDeletion,
      message: `Waiting for instance ${instance.instanceId} to be terminated`,
      actions: [],
      done: false,
    };
  return { reason: DeletingReason.DeletionCompleted, message: 'Deletion completed', actions: [], done: true };
}
