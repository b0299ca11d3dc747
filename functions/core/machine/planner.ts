/**
 * The Machine planner: from the Machine, its instance and its node, the Machine's status (phase, providerID,
 * nodeRef, addresses, conditions) and the next action: launch the instance, or, once deleting, drain, terminate
 * and let go. Learnt from Cluster API's core/reconcilers/machine/ (machine_controller.go,
 * machine_controller_phases.go, machine_controller_status.go, machine_controller_noderef.go).
 */
import type { Cluster } from '../../api/cluster.js';
import { Finalizers } from '../../api/common.js';
import type { ControlPlane } from '../../api/control-plane.js';
import type { Machine, MachineStatus } from '../../api/machine.js';
import { isTrue, setConditions, summaryCondition, timestamp, type ConditionInput, type MergePriority, type SummarisedCondition } from '../conditions.js';
import type { Observed } from '../observed.js';
import { appendPlan, emptyPlan, refOf, type Plan } from '../plan.js';
import { isControlPlaneMachine, isDeleting, isPaused, statusWrite, type ClusterObjects } from '../cluster/objects.js';
import { deletionStep, DeletingReason, type DeletionStep } from './deletion.js';
import { etcdMemberOf, instanceOf, nodeOf, ObservedLookup, ownInstanceOf, ownNodeOf } from './facts.js';
import { nodeConditions } from './node-conditions.js';
import { beginPass, endPass, NOTHING_TO_DO, remember, reusedPlan, type MachinePlanMemo } from './plan-memo.js';
import { detectFailure, infrastructureCondition, InfrastructureReason, machinePhase } from './phase.js';

export const MachineReadyReason = { Ready: 'Ready', NotReady: 'NotReady', ReadyUnknown: 'ReadyUnknown' } as const;

/** What a Machine needs to know of the objects around it. */
export interface MachinePlanContext {
  cluster?: Cluster;
  /** The control plane of the cluster: while it is being deleted, its machines' terminations name no etcd member. */
  controlPlane?: ControlPlane;
  /** The observed instances and nodes by key (facts.ts ObservedLookup), built once when every machine is planned. */
  lookup?: ObservedLookup;
}

/**
 * Plans one Machine.
 *
 * At most one write per Machine per plan (the store guards each write with the resourceVersion that was read):
 * when the providerID has to be recorded in the spec, that Update is the whole plan, and the status follows on
 * the reconcile the write triggers.
 */
export function planMachine(machine: Machine, observed: Observed, now: Date, context: MachinePlanContext = {}): Plan {
  const plan = emptyPlan();
  const name = machine.metadata.name;
  const ref = refOf(machine);
  if (isPaused(context.cluster, machine)) {
    plan.notes.push(`Machine ${name}: paused, nothing done`);
    return plan;
  }
  const deleting = isDeleting(machine);
  const instance = instanceOf(machine, observed, context.lookup);
  const lookup = nodeOf(machine, observed, instance, context.lookup);
  const controlPlane = isControlPlaneMachine(machine);
  const clusterConditions = context.cluster?.status?.conditions;
  const controlPlaneInitialized = isTrue(clusterConditions, 'ControlPlaneInitialized');

  if (!deleting && machine.spec.providerID === undefined && instance?.providerID) {
    plan.writes.push({ type: 'Update', object: { ...machine, spec: { ...machine.spec, providerID: instance.providerID } } });
    plan.notes.push(`Machine ${name}: providerID ${instance.providerID} recorded`);
    return plan;
  }

  const old = machine.status ?? {};
  const infrastructureReady = Boolean(old.infrastructureReady) || instance?.state === 'running';
  const failure = old.failureReason !== undefined ? { reason: old.failureReason, message: old.failureMessage ?? '' } : detectFailure(machine, instance);
  const nodeRef = lookup.node ? { name: lookup.node.name, ...(lookup.node.uid ? { uid: lookup.node.uid } : {}) } : old.nodeRef;

  let step: DeletionStep | undefined;
  if (deleting) {
    const teardown =
      (context.cluster !== undefined && isDeleting(context.cluster)) ||
      (controlPlane && context.controlPlane !== undefined && isDeleting(context.controlPlane));
    // Only the machine's own (uid-tagged) instance and its node are drained and terminated.
    step = deletionStep({
      machine,
      ref,
      instance: ownInstanceOf(machine, observed, context.lookup),
      lookup: ownNodeOf(machine, observed, context.lookup),
      now,
      controlPlane,
      teardown,
      ...(controlPlane ? { etcd: etcdMemberOf(machine, observed, context.lookup) } : {}),
    });
  }

  const conditions: ConditionInput[] = [
    infrastructureCondition(machine, instance),
    ...nodeConditions({
      machine,
      lookup,
      ...((machine.spec.providerID ?? instance?.providerID) ? { providerID: machine.spec.providerID ?? instance?.providerID } : {}),
      controlPlaneInitialized,
      deleting,
    }),
    step
      ? { type: 'Deleting', status: 'True', reason: step.reason, message: step.message }
      : { type: 'Deleting', status: 'False', reason: DeletingReason.NotDeleting },
  ];
  const phase = machinePhase({
    machine,
    instance,
    infrastructureReady,
    hasNodeRef: nodeRef !== undefined,
    failed: failure !== undefined,
    deleted: step?.done ?? false,
  });
  let merged = setConditions(old.conditions, conditions, now, machine.metadata.generation);
  merged = setConditions(merged, [readyCondition(merged, deleting)], now, machine.metadata.generation);

  const infra = {
    ...old.infrastructure,
    ...(instance ? { instanceId: instance.instanceId, state: instance.state } : {}),
    ...(instance?.instanceType ? { instanceType: instance.instanceType } : {}),
    ...(instance?.availabilityZone ? { availabilityZone: instance.availabilityZone } : {}),
  };
  const status: MachineStatus = {
    ...old,
    ...(machine.metadata.generation !== undefined ? { observedGeneration: machine.metadata.generation } : {}),
    phase,
    ...(nodeRef ? { nodeRef } : {}),
    ...(instance?.addresses ? { addresses: instance.addresses } : {}),
    infrastructureReady,
    ...(Object.keys(infra).length > 0 ? { infrastructure: infra } : {}),
    ...(failure ? { failureReason: failure.reason, failureMessage: failure.message } : {}),
    ...(step?.nodeDrainStartTime || step?.waitForNodeVolumeDetachStartTime || step?.nodeDeletionStartTime
      ? {
          deletion: {
            ...old.deletion,
            ...(step.nodeDrainStartTime ? { nodeDrainStartTime: step.nodeDrainStartTime } : {}),
            ...(step.waitForNodeVolumeDetachStartTime ? { waitForNodeVolumeDetachStartTime: step.waitForNodeVolumeDetachStartTime } : {}),
            ...(step.nodeDeletionStartTime ? { nodeDeletionStartTime: step.nodeDeletionStartTime } : {}),
          },
        }
      : {}),
    conditions: merged,
    ...(phase !== old.phase ? { lastUpdated: timestamp(now) } : {}),
  };
  plan.writes.push(...statusWrite(machine, status));
  if (phase !== old.phase) plan.notes.push(`Machine ${name}: ${old.phase ?? 'new'} -> ${phase}`);
  if (failure && old.failureReason === undefined) plan.notes.push(`Machine ${name}: failed: ${failure.message}`);

  if (step) {
    plan.actions.push(...step.actions);
    if (step.requeueAfterSeconds !== undefined) plan.requeueAfterSeconds = step.requeueAfterSeconds;
    if (step.done && (machine.metadata.finalizers ?? []).includes(Finalizers.machine)) {
      plan.writes.push({ type: 'RemoveFinalizer', ref, finalizer: Finalizers.machine });
      plan.notes.push(`Machine ${name}: instance gone, finalizer removed`);
    } else if (!step.done) plan.notes.push(`Machine ${name}: deleting: ${step.message}`);
    return plan;
  }

  if (failure === undefined && (phase === 'Pending' || phase === 'Provisioning')) {
    const blocker = launchBlocker(context.cluster, controlPlane, controlPlaneInitialized);
    if (blocker) plan.notes.push(`Machine ${name}: waiting to launch: ${blocker}`);
    // Note: the action is repeated while the machine is Pending or Provisioning. It is idempotent (ClientToken,
    // adoption by the machine-uid tag, deterministic execution name), and repeating it resumes a provisioning
    // workflow that died half-way, as DESIGN section 5 wants of every workflow.
    else plan.actions.push({ type: 'LaunchInstance', machine: ref });
  }
  return plan;
}

/**
 * Why the instance may not be launched yet. Workers need the control plane to answer (their kubeadm join
 * needs it; Cluster API's bootstrap provider waits for ControlPlaneInitialized); control-plane machines only
 * need the cluster's infrastructure, the first of them being the one that initialises the control plane.
 */
function launchBlocker(cluster: Cluster | undefined, controlPlane: boolean, controlPlaneInitialized: boolean): string | undefined {
  if (!cluster) return 'its Cluster does not exist';
  if (isDeleting(cluster)) return 'its Cluster is being deleted';
  if (!cluster.status?.infrastructureReady) return 'cluster infrastructure is not ready';
  if (!controlPlane && !controlPlaneInitialized) return 'the control plane is not initialized';
  return undefined;
}

/**
 * Ready summarises InfrastructureReady, NodeHealthy, HealthCheckSucceeded and Deleting, with the Machine's own
 * reasons; while deleting, a deleted instance or node is expected and no longer counts as an issue
 * (core/reconcilers/machine/machine_controller_status.go, machineConditionCustomMergeStrategy).
 */
function readyCondition(conditions: MachineStatus['conditions'], deleting: boolean): ConditionInput {
  const expectedWhileDeleting = (c: SummarisedCondition): MergePriority | undefined => {
    if (!deleting) return undefined;
    if (
      c.type === 'InfrastructureReady' &&
      (c.reason === InfrastructureReason.InfrastructureDeleted || c.reason === InfrastructureReason.InfrastructureDoesNotExist)
    )
      return 'info';
    if (c.type === 'NodeHealthy' && (c.reason === 'NodeDeleted' || c.reason === 'NodeDoesNotExist')) return 'info';
    return undefined;
  };
  return summaryCondition(conditions, 'Ready', ['Deleting', 'InfrastructureReady', 'NodeHealthy', 'HealthCheckSucceeded'], {
    negativePolarity: ['Deleting'],
    ignoreIfMissing: ['HealthCheckSucceeded'],
    priority: expectedWhileDeleting,
    reasons: { issue: MachineReadyReason.NotReady, unknown: MachineReadyReason.ReadyUnknown, info: MachineReadyReason.Ready },
  });
}

/**
 * Plans every Machine of the cluster. With `memo` (plan-memo.ts: kept by the caller from the cluster's last
 * reconcile, and updated here), a machine whose inputs are all unchanged gets its last plan back instead of being
 * planned again; the plan is the same without it.
 */
export function planMachines(objects: ClusterObjects, observed: Observed, now: Date, memo?: MachinePlanMemo): Plan {
  // Merged as they come, not mergePlans(...plans): 150,000 plans as arguments overflow the stack.
  const out = emptyPlan();
  const base = { cluster: objects.cluster, ...(objects.controlPlane ? { controlPlane: objects.controlPlane } : {}) };
  if (!memo) {
    const context: MachinePlanContext = { ...base, lookup: new ObservedLookup(observed) };
    for (const m of objects.machines) appendPlan(out, planMachine(m, observed, now, context));
    return out;
  }
  const pass = beginPass(memo, observed, contextKey(objects, observed), objects.machines.length);
  const context: MachinePlanContext = { ...base, lookup: pass.lookup };
  const machines = objects.machines;
  for (let slot = 0; slot < machines.length; slot++) {
    const m = machines[slot]!;
    const reused = reusedPlan(memo, m, slot, pass);
    if (reused) {
      // Most machines of a steady cluster: nothing to add, and their plans are not read.
      if (reused !== NOTHING_TO_DO) appendPlan(out, reused);
      continue;
    }
    pass.lookup.reads = [];
    const plan = planMachine(m, pass.observed, now, context);
    const reads = pass.lookup.reads;
    pass.lookup.reads = undefined;
    remember(memo, m, slot, reads, plan, pass);
    appendPlan(out, plan);
  }
  endPass(memo);
  return out;
}

/**
 * Everything planMachine reads of the cluster, its control plane and the observation outside the lookup, as a
 * key: the memo's entries hold only while it is the same. (isPaused's machine annotation is the Machine's own.)
 */
function contextKey(objects: ClusterObjects, observed: Observed): string {
  const cluster = objects.cluster;
  const bit = (b: boolean | undefined) => (b ? '1' : '0');
  return [
    bit(cluster !== undefined),
    bit(isPaused(cluster)),
    bit(cluster !== undefined && isDeleting(cluster)),
    bit(cluster?.status?.infrastructureReady),
    bit(isTrue(cluster?.status?.conditions, 'ControlPlaneInitialized')),
    bit(objects.controlPlane !== undefined && isDeleting(objects.controlPlane)),
    bit(observed.nodes !== undefined),
  ].join('');
}
