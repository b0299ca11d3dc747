/**
 * MachineSet status: replica counters and the v1beta2 conditions ScalingUp, ScalingDown, MachinesReady
 * and Paused. Learnt from cluster-api core/reconcilers/machineset/machineset_controller_status.go.
 */
import { selectorString } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import type { MachineSet, MachineSetStatus } from '../../api/machine-set.js';
import type { Condition } from '../../api/common.js';
import { getCondition, removeCondition, setCondition, setConditions, type ConditionInput } from '../conditions.js';
import { availableAt, type MachineIndex, type UnhealthyReason } from './machine-health.js';
import { listNames, pausedCondition } from './paused.js';
import { compileHasAll } from './selector.js';

/** Counters of a set of machines, as MachineSet and MachineDeployment status report them. */
export interface ReplicaCounts {
  /** Machines that exist, deleting ones included until they are gone (Cluster API's status.replicas). */
  replicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** Seconds until the first Ready machine passes minReadySeconds, if one is waiting. */
  nextAvailableInSeconds?: number;
}

export function countReplicas(machines: readonly Machine[], index: MachineIndex, minReadySeconds: number): ReplicaCounts {
  // The deployment planner and the set's status count the same list in one reconcile: once.
  return index.onceFor(machines, `countReplicas/${minReadySeconds}`, () => countReplicasOnce(machines, index, minReadySeconds));
}

function countReplicasOnce(machines: readonly Machine[], index: MachineIndex, minReadySeconds: number): ReplicaCounts {
  let ready = 0;
  let available = 0;
  let next: number | undefined;
  // By slot (machine-health.ts): no health object per machine.
  const slots = index.slotsOf(machines);
  const now = index.now;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    if (!index.readyAt(slot)) continue;
    ready++;
    if (availableAt(index, slot, minReadySeconds)) {
      available++;
      continue;
    }
    // Ready, not available yet: in this many seconds (secondsUntilAvailable).
    const s = Math.ceil((index.readySinceAt(slot) + minReadySeconds * 1000 - now) / 1000);
    if (next === undefined || s < next) next = s;
  }
  return { replicas: machines.length, readyReplicas: ready, availableReplicas: available, ...(next !== undefined ? { nextAvailableInSeconds: next } : {}) };
}

/** MachinesReady over the machines that are not deleting (util/conditions aggregation, simplified). */
export function machinesReadyCondition(machines: readonly Machine[], index: MachineIndex): ConditionInput {
  // One pass, one health lookup per machine: this runs over every machine of every set in every reconcile.
  let live = 0;
  const byReason = new Map<UnhealthyReason | 'Unknown', string[]>();
  const slots = index.slotsOf(machines);
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]!;
    if (index.deletingAt(slot)) continue;
    live++;
    if (index.readyAt(slot)) continue;
    const r = index.unhealthyAt(slot) ?? 'Unknown';
    const name = machines[i]!.metadata.name;
    const list = byReason.get(r);
    if (list) list.push(name);
    else byReason.set(r, [name]);
  }
  if (live === 0) return { type: 'MachinesReady', status: 'True', reason: 'NoReplicas' };
  if (byReason.size === 0) return { type: 'MachinesReady', status: 'True', reason: 'Ready' };
  const lines = [...byReason.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([reason, names]) => `* Machine${names.length > 1 ? 's' : ''} ${listNames(names.sort())}: ${reason}`);
  const onlyUnknown = byReason.size === 1 && byReason.has('Unknown');
  return { type: 'MachinesReady', status: onlyUnknown ? 'Unknown' : 'False', reason: onlyUnknown ? 'ReadyUnknown' : 'NotReady', message: lines.join('\n') };
}

/** The machine carries every label of the set's template with the template's value (status.fullyLabeledReplicas). */
export function compileFullyLabeled(ms: MachineSet): (machine: Machine) => boolean {
  const templateLabels = ms.spec.template.metadata.labels ?? {};
  const keys = Object.keys(templateLabels);
  const hasAll = compileHasAll(
    keys,
    keys.map((k) => templateLabels[k]!),
  );
  return (machine) => hasAll(machine.metadata.labels);
}

export interface MachineSetStatusInput {
  machineSet: MachineSet;
  /** The machines the set owns after adoption and release, before this plan's creates and deletes. */
  machines: readonly Machine[];
  index: MachineIndex;
  now: Date;
  /** Why machines cannot be created, when they cannot (missing MachineClass, bad failure domain). */
  scaleUpBlocked?: string;
  failure?: { reason: string; message: string };
  pausedBy?: readonly string[];
  /** Why the preflight checks hold a scale up (preflight.ts), one message per failed check. */
  preflightFailures?: readonly string[];
  /** How many of `machines` compileFullyLabeled counts, when the caller knows it already (the set planner's walk). */
  fullyLabeledReplicas?: number;
}

/**
 * Cluster API's v1beta1 MachinesCreated condition, kept only while the preflight checks hold a scale up (False,
 * PreflightCheckFailed, the messages joined as createMachines joins them); removed once they pass.
 */
export const PreflightCheckFailedReason = 'PreflightCheckFailed';

function scalingUpMessage(replicas: number, desired: number, input: MachineSetStatusInput): string {
  const preflight = input.preflightFailures ?? [];
  const base = `Scaling up from ${replicas} to ${desired} replicas`;
  if (preflight.length === 0) return `${base}${input.scaleUpBlocked ? ` is blocked because ${input.scaleUpBlocked}` : ''}`;
  // Cluster API's setScalingUpCondition: one line per reason.
  const lines = [...preflight, ...(input.scaleUpBlocked ? [input.scaleUpBlocked] : [])].map((m) => `* ${m}`);
  return `${base} is blocked because:\n${lines.join('\n')}`;
}

function machinesCreated(current: Condition[], input: MachineSetStatusInput, now: Date, generation: number | undefined): Condition[] {
  const preflight = input.preflightFailures ?? [];
  if (preflight.length === 0) return getCondition(current, 'MachinesCreated') ? removeCondition(current, 'MachinesCreated') : current;
  return setCondition(
    current,
    { type: 'MachinesCreated', status: 'False', reason: PreflightCheckFailedReason, message: preflight.join('; ') },
    now,
    generation,
  );
}

export function machineSetStatus(input: MachineSetStatusInput): { status: MachineSetStatus; counts: ReplicaCounts } {
  const { machineSet: ms, machines, index, now } = input;
  const counts = countReplicas(machines, index, ms.spec.minReadySeconds);
  const desired = ms.metadata.deletionTimestamp ? 0 : ms.spec.replicas;
  let fullyLabeled = input.fullyLabeledReplicas;
  if (fullyLabeled === undefined) {
    const labeled = compileFullyLabeled(ms);
    fullyLabeled = 0;
    for (let i = 0; i < machines.length; i++) if (labeled(machines[i]!)) fullyLabeled++;
  }

  const conditions: ConditionInput[] = [
    counts.replicas < desired
      ? {
          type: 'ScalingUp',
          status: 'True',
          reason: 'ScalingUp',
          message: scalingUpMessage(counts.replicas, desired, input),
        }
      : {
          type: 'ScalingUp',
          status: 'False',
          reason: 'NotScalingUp',
          ...(input.scaleUpBlocked && !ms.metadata.deletionTimestamp ? { message: `Scaling up would be blocked because ${input.scaleUpBlocked}` } : {}),
        },
    counts.replicas > desired
      ? { type: 'ScalingDown', status: 'True', reason: 'ScalingDown', message: `Scaling down from ${counts.replicas} to ${desired} replicas` }
      : { type: 'ScalingDown', status: 'False', reason: 'NotScalingDown' },
    machinesReadyCondition(machines, index),
    pausedCondition(input.pausedBy ?? []),
  ];
  const generation = ms.metadata.generation;
  const { failureReason: _r, failureMessage: _m, ...previous } = ms.status ?? {};
  const status: MachineSetStatus = {
    ...previous,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    selector: selectorString(ms.spec.selector),
    replicas: counts.replicas,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: counts.readyReplicas,
    availableReplicas: counts.availableReplicas,
    ...(input.failure ? { failureReason: input.failure.reason, failureMessage: input.failure.message } : {}),
    conditions: machinesCreated(setConditions(ms.status?.conditions, conditions, now, generation), input, now, generation),
  };
  return { status, counts };
}
