/** A MachineSet's MachinesReady condition (Cluster API's setMachinesReadyCondition, machineset_controller_status.go). */
import { describe, expect, it } from 'vitest';
import { indexMachines } from '../../../../functions/core/machineset/machine-health.js';
import { countReplicas, machineSetStatus, machinesReadyCondition } from '../../../../functions/core/machineset/status.js';
import { T0, at, machine, machineSet, node } from './fixtures.js';

const ms = machineSet();

describe('MachinesReady', () => {
  it('is True, NoReplicas, when no machine is left but deleting ones', () => {
    // Prepare
    const machines = [machine('m1', { owner: ms, deleting: true, node: undefined })];
    // Act & Assess
    expect(machinesReadyCondition(machines, indexMachines(machines, { instances: [], nodes: [] }, T0))).toEqual({
      type: 'MachinesReady',
      status: 'True',
      reason: 'NoReplicas',
    });
  });

  it('is True, Ready, when every machine that stays is ready', () => {
    // Prepare
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms, deleting: true, node: undefined })];
    // Act & Assess
    expect(machinesReadyCondition(machines, indexMachines(machines, { instances: [], nodes: [node('m1-node')] }, T0))).toEqual({
      type: 'MachinesReady',
      status: 'True',
      reason: 'Ready',
    });
  });

  it('is False, NotReady, and names the machines by reason, reasons and names sorted', () => {
    // Prepare
    const machines = [
      machine('m3', { owner: ms, node: undefined }),
      machine('m1', { owner: ms, node: undefined }),
      machine('m2', { owner: ms }),
      machine('m4', { owner: ms }),
    ];
    // Act
    const c = machinesReadyCondition(machines, indexMachines(machines, { instances: [], nodes: [node('m2-node', { ready: 'False' }), node('m4-node')] }, T0));
    // Assess
    expect(c).toEqual({ type: 'MachinesReady', status: 'False', reason: 'NotReady', message: '* Machines m1, m3: NoNode\n* Machine m2: NodeNotReady' });
  });
});

describe('MachinesReady, more', () => {
  it('sorts the reasons whatever the order of the machines', () => {
    // Prepare: the machine with a NotReady node comes first.
    const machines = [machine('m2', { owner: ms }), machine('m1', { owner: ms, node: undefined })];
    // Act
    const c = machinesReadyCondition(machines, indexMachines(machines, { instances: [], nodes: [node('m2-node', { ready: 'False' })] }, T0));
    // Assess
    expect(c.message).toBe('* Machine m1: NoNode\n* Machine m2: NodeNotReady');
  });

  it('is Unknown, ReadyUnknown, when the workload cluster cannot be read and the machines recorded nothing of their nodes', () => {
    // Prepare
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms })];
    // Act
    const c = machinesReadyCondition(machines, indexMachines(machines, { instances: [] }, T0));
    // Assess
    expect(c).toEqual({ type: 'MachinesReady', status: 'Unknown', reason: 'ReadyUnknown', message: '* Machines m1, m2: Unknown' });
  });

  it('is False, NotReady, when an unknown machine comes with one whose reason is known', () => {
    // Prepare: m1 recorded nothing of its node, m2 has none.
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms, node: undefined })];
    // Act
    const c = machinesReadyCondition(machines, indexMachines(machines, { instances: [] }, T0));
    // Assess
    expect(c).toMatchObject({ status: 'False', reason: 'NotReady' });
  });
});

// Cluster API's MachineSet requeues for minReadySeconds (machineset_controller.go): the earliest machine to become
// available decides when to look again.
describe('countReplicas', () => {
  it('looks again when the first ready machine becomes available, whatever the order of the machines', () => {
    // Prepare: ready 10 s and 40 s ago, minReadySeconds 60.
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms }), machine('m3', { owner: ms })];
    const nodes = [node('m1-node', { since: at(-10) }), node('m2-node', { since: at(-40) }), node('m3-node', { since: at(-10) })];
    // Act
    const counts = countReplicas(machines, indexMachines(machines, { instances: [], nodes }, T0), 60);
    // Assess
    expect(counts).toEqual({ replicas: 3, readyReplicas: 3, availableReplicas: 0, nextAvailableInSeconds: 20 });
  });
});

// Cluster API's MachineSet status.fullyLabeledReplicas (machineset_controller_status.go): the machines that carry
// every label of the template, not only the selector's.
describe('fullyLabeledReplicas', () => {
  it('counts only the machines with every label of the template', () => {
    // Prepare: the template gained a label after m1 was made.
    const set = machineSet();
    const labels = { ...set.spec.template.metadata.labels };
    const m1 = machine('m1', { owner: set, labels });
    set.spec.template.metadata.labels = { ...labels, tier: 'web' };
    const m2 = machine('m2', { owner: set });
    const machines = [m1, m2];
    // Act
    const { status } = machineSetStatus({ machineSet: set, machines, index: indexMachines(machines, { instances: [], nodes: [] }, T0), now: T0 });
    // Assess
    expect(status).toMatchObject({ replicas: 2, fullyLabeledReplicas: 1 });
  });
});

describe('machineSetStatus conditions', () => {
  const statusFor = (set: ReturnType<typeof machineSet>, machines: ReturnType<typeof machine>[], extra: { scaleUpBlocked?: string } = {}) =>
    machineSetStatus({
      machineSet: set,
      machines,
      index: indexMachines(machines, { instances: [], nodes: machines.map((m) => node(`${m.metadata.name}-node`)) }, T0),
      now: T0,
      ...extra,
    }).status;
  const byType = (s: ReturnType<typeof statusFor>) => Object.fromEntries((s.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => [c.type, c]));

  it('a set at its size says scaling up would be blocked, and why; a deleting set does not', () => {
    // Prepare
    const set = machineSet({ replicas: 1 });
    const deleting = machineSet({ replicas: 1, deleting: true });
    // Act
    const atSize = byType(statusFor(set, [machine('m1', { owner: set })], { scaleUpBlocked: 'MachineClass small does not exist' }));
    const going = byType(statusFor(deleting, [], { scaleUpBlocked: 'MachineClass small does not exist' }));
    // Assess
    expect(atSize.ScalingUp).toEqual({
      type: 'ScalingUp',
      status: 'False',
      reason: 'NotScalingUp',
      message: 'Scaling up would be blocked because MachineClass small does not exist',
      observedGeneration: 1,
    });
    expect(going.ScalingUp).toEqual({ type: 'ScalingUp', status: 'False', reason: 'NotScalingUp', observedGeneration: 1 });
  });

  it('a set with a machine too many is ScalingDown, and not paused unless told so', () => {
    // Prepare
    const set = machineSet({ replicas: 1 });
    // Act
    const c = byType(statusFor(set, [machine('m1', { owner: set }), machine('m2', { owner: set })]));
    // Assess
    expect(c.ScalingDown).toEqual({
      type: 'ScalingDown',
      status: 'True',
      reason: 'ScalingDown',
      message: 'Scaling down from 2 to 1 replicas',
      observedGeneration: 1,
    });
    expect(c.Paused).toMatchObject({ status: 'False', reason: 'NotPaused' });
  });

  it('counts a machine without labels as not fully labeled', () => {
    // Prepare
    const set = machineSet({ replicas: 2 });
    const bare = machine('m2', { owner: set });
    delete bare.metadata.labels;
    // Act & Assess
    expect(statusFor(set, [machine('m1', { owner: set }), bare]).fullyLabeledReplicas).toBe(1);
  });
});
