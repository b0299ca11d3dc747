/**
 * The teardown of a deleting Machine, one step per reconcile: drain the node, wait for its volumes to detach,
 * remove its etcd member, terminate the instance, delete the Node object, then let the Machine go. Learnt from
 * Cluster API's core/reconcilers/machine/machine_controller.go (reconcileDelete, isNodeDrainAllowed,
 * isNodeVolumeDetachingAllowed, nodeDrainTimeoutExceeded, nodeVolumeDetachTimeoutExceeded, shouldWaitForNodeVolumes,
 * deleteNode): each wait's start is recorded once and the wait is given up when its timeout has passed since then;
 * the node is never drained, waited for or deleted when the whole cluster goes (isDeleteNodeAllowed).
 *
 * Only what is the machine's own by tag is acted on: the instance found by its uid tag, and the node of such an
 * instance (by providerID). A nodeRef, spec.providerID or status.infrastructure.instanceId that names another
 * machine's node or instance (any writer of the Machine can set them) drains, deregisters and terminates nothing.
 */
import type { Machine } from '../../api/machine.js';
import { DEFAULT_NODE_DELETION_TIMEOUT_SECONDS, DEFAULT_NODE_VOLUME_DETACH_TIMEOUT_SECONDS } from '../../api/template.js';
import { ConditionType, isTrue, timestamp } from '../conditions.js';
import type { InstanceFact, NodeFact } from '../observed.js';
import type { Action, ObjectRef } from '../plan.js';
import { timeOf } from '../cluster/objects.js';
import { GONE_STATES, type MachineEtcdMember, type NodeLookup } from './facts.js';
import { cappedDrainTimeoutSeconds } from './interruption.js';

/** How soon to look again for a node that could not be read, when no drain timeout brings the next look. */
const NODE_READ_RETRY_SECONDS = 30;
/** How soon to look again at an etcd member being removed, or at an etcd that could not be read. */
const ETCD_RETRY_SECONDS = 15;
/** How soon to look at a node's volumes again: Cluster API's waitForVolumeDetachRetryInterval (volumes detach slowly). */
export const VOLUME_DETACH_RETRY_SECONDS = 20;
/** How soon to look again for a Node asked to be deleted: Cluster API polls its deletion every 2 s. */
export const NODE_DELETION_RETRY_SECONDS = 2;

/** The fields that govern a machine's teardown, propagated in place from a template or a ControlPlane. */
export interface TeardownTimeouts {
  nodeDrainTimeoutSeconds: number;
  nodeVolumeDetachTimeoutSeconds?: number | undefined;
  nodeDeletionTimeoutSeconds?: number | undefined;
}

/**
 * `spec` with the teardown timeouts of `from`, an unset one left out (not written as undefined), so that a machine
 * compares equal to its template once synced. Cluster API's syncMachines and KCP's syncMachines propagate the same
 * three (nodeDrainTimeout, nodeVolumeDetachTimeout, nodeDeletionTimeout) without a rollout.
 */
export function withTeardownTimeouts<T extends TeardownTimeouts>(spec: T, from: TeardownTimeouts): T {
  const { nodeVolumeDetachTimeoutSeconds: _v, nodeDeletionTimeoutSeconds: _d, ...rest } = spec;
  return {
    ...rest,
    nodeDrainTimeoutSeconds: from.nodeDrainTimeoutSeconds,
    ...(from.nodeVolumeDetachTimeoutSeconds !== undefined ? { nodeVolumeDetachTimeoutSeconds: from.nodeVolumeDetachTimeoutSeconds } : {}),
    ...(from.nodeDeletionTimeoutSeconds !== undefined ? { nodeDeletionTimeoutSeconds: from.nodeDeletionTimeoutSeconds } : {}),
  } as T;
}

export const DeletingReason = {
  NotDeleting: 'NotDeleting',
  DrainingNode: 'DrainingNode',
  WaitingForVolumeDetach: 'WaitingForVolumeDetach',
  /** Cluster API's reason while a pre-terminate hook holds the machine: here, its etcd member's removal. */
  WaitingForPreTerminateHook: 'WaitingForPreTerminateHook',
  WaitingForInfrastructureDeletion: 'WaitingForInfrastructureDeletion',
  DeletingNode: 'DeletingNode',
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
  /** Set when the wait for the node's volumes starts now (status.deletion.waitForNodeVolumeDetachStartTime). */
  waitForNodeVolumeDetachStartTime?: string;
  /** Set when the Node's deletion is first asked for now (status.deletion.nodeDeletionStartTime). */
  nodeDeletionStartTime?: string;
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

  const volumes = volumeDetachStep(input, instanceAlive, unreadNode);
  if (volumes) return volumes;

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
  return nodeDeletionStep(input) ?? { reason: DeletingReason.DeletionCompleted, message: 'Deletion completed', actions: [], done: true };
}

/** Seconds since `start`, and whether `timeoutSeconds` (0: never) has passed; at least 1 s left otherwise. */
function elapsedOf(now: Date, start: string, timeoutSeconds: number): { exceeded: boolean; remaining: number } {
  const elapsed = (now.getTime() - timeOf(start)) / 1000;
  if (timeoutSeconds === 0) return { exceeded: false, remaining: Number.POSITIVE_INFINITY };
  return { exceeded: elapsed >= timeoutSeconds, remaining: Math.max(1, Math.ceil(timeoutSeconds - elapsed)) };
}

const isUnreachable = (node: NodeFact) => node.conditions.some((c) => c.type === 'Ready' && c.status === 'Unknown');

/**
 * After the drain, wait for the node's volumes to detach (its status.volumesAttached empty) before the instance
 * goes, up to nodeVolumeDetachTimeoutSeconds from the first look, as Cluster API's shouldWaitForNodeVolumes. Not
 * waited for: a node that is gone or unreachable (Ready Unknown: no kubelet will ever detach anything, Cluster
 * API skips it too), an instance no longer running, a teardown. While nodes cannot be read, a machine that had a
 * node waits within the same timeout.
 *
 * Note: only status.volumesAttached is read; Cluster API also reads VolumeAttachments and leaves out the volumes of
 * pods the drain skipped. A DaemonSet pod's volume therefore holds the wait until the timeout here.
 */
function volumeDetachStep(input: DeletionInput, instanceAlive: boolean, unreadNode: boolean): DeletionStep | undefined {
  const { machine, lookup, now } = input;
  if (input.teardown || !instanceAlive) return undefined;
  const node = lookup.node;
  const attached = node !== undefined && !isUnreachable(node) ? (node.volumesAttached ?? []) : [];
  if (attached.length === 0 && !unreadNode) return undefined;
  const recorded = machine.status?.deletion?.waitForNodeVolumeDetachStartTime;
  const start = recorded ?? timestamp(now);
  const timeoutSeconds = machine.spec.nodeVolumeDetachTimeoutSeconds ?? DEFAULT_NODE_VOLUME_DETACH_TIMEOUT_SECONDS;
  const { exceeded, remaining } = elapsedOf(now, start, timeoutSeconds);
  if (exceeded) return undefined;
  const what =
    attached.length > 0
      ? `Waiting for Node volumes to be detached (started at ${start}): ${attached.length > 3 ? `${attached.slice(0, 3).join(', ')}, ... (${attached.length - 3} more)` : attached.join(', ')}`
      : `Waiting to read the node to see its volumes detached (started at ${start})`;
  return {
    reason: DeletingReason.WaitingForVolumeDetach,
    message: what,
    actions: [],
    ...(recorded === undefined ? { waitForNodeVolumeDetachStartTime: start } : {}),
    requeueAfterSeconds: Math.min(remaining, VOLUME_DETACH_RETRY_SECONDS),
    done: false,
  };
}

/**
 * Once the instance is gone, delete the machine's Node object, asking again until it is gone or
 * nodeDeletionTimeoutSeconds (10 s by default, 0: forever) has passed since the first ask, then go on without it, as
 * Cluster API's reconcileDelete (deleteNode, retried up to nodeDeletionTimeout). Only the Node of the machine's
 * own instance (found by its providerID) is deleted, never one a nodeRef names; while nodes cannot be read, a
 * machine that had a node waits within the same timeout. Not in a teardown: the whole cluster goes.
 */
function nodeDeletionStep(input: DeletionInput): DeletionStep | undefined {
  const { machine, lookup, now } = input;
  if (input.teardown) return undefined;
  const node = lookup.node;
  const unread = !lookup.known && machine.status?.nodeRef !== undefined;
  if (node === undefined && !unread) return undefined;
  const recorded = machine.status?.deletion?.nodeDeletionStartTime;
  const start = recorded ?? timestamp(now);
  const timeoutSeconds = machine.spec.nodeDeletionTimeoutSeconds ?? DEFAULT_NODE_DELETION_TIMEOUT_SECONDS;
  const { exceeded, remaining } = elapsedOf(now, start, timeoutSeconds);
  if (exceeded)
    return {
      reason: DeletingReason.DeletionCompleted,
      message: `Deletion completed; Node ${node?.name ?? machine.status?.nodeRef?.name} not deleted within nodeDeletionTimeout (${timeoutSeconds}s), left behind`,
      actions: [],
      done: true,
    };
  return {
    reason: DeletingReason.DeletingNode,
    message: node
      ? `Deleting Node ${node.name} (started at ${start})`
      : `Waiting to read the nodes to delete Node ${machine.status?.nodeRef?.name} (started at ${start})`,
    actions: node ? [{ type: 'DeleteNode', machine: input.ref, nodeName: node.name }] : [],
    ...(recorded === undefined ? { nodeDeletionStartTime: start } : {}),
    requeueAfterSeconds: Math.min(remaining, node ? NODE_DELETION_RETRY_SECONDS : NODE_READ_RETRY_SECONDS),
    done: false,
  };
}
