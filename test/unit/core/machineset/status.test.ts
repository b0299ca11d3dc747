/** A MachineSet's MachinesReady condition (Cluster API's setMachinesReadyCondition, machineset_controller_status.go). */
import { describe, expect, it } from 'vitest';
import { indexMachines } from '../../../../functions/core/machineset/machine-health.js';
import { machinesReadyCondition } from '../../../../functions/core/machineset/status.js';
import { T0, machine, machineSet, node } from './fixtures.js';

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
