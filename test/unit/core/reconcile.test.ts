/** One reconcile of a whole cluster (planClusterReconcile): what it asks of all the planners together. */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../functions/api/machine.js';
import { MAX_MACHINE_CREATES_PER_PASS } from '../../../functions/core/machineset/planner.js';
import type { Write } from '../../../functions/core/plan.js';
import { planClusterReconcile } from '../../../functions/core/reconcile.js';
import { T0, cluster, machineClass, machineSet } from './machineset/fixtures.js';

const createdMachines = (writes: Write[]) => writes.flatMap((w) => (w.type === 'Create' && w.object.kind === 'Machine' ? [w.object as Machine] : []));

describe('planClusterReconcile', () => {
  it('creates at most 100 machines per pass across all the MachineSets of a cluster, and asks for the next pass at once', () => {
    // Prepare: two MachineSets of 80 replicas each, none of their machines made yet.
    const objects = {
      cluster: cluster(),
      machineDeployments: [],
      machineSets: [machineSet({ name: 'ms-a', replicas: 80 }), machineSet({ name: 'ms-b', replicas: 80 })],
      machines: [],
      machineHealthChecks: [],
      machineClasses: [machineClass()],
    };
    // Act
    const plan = planClusterReconcile(objects, { instances: [], nodes: [] }, T0);
    // Assess
    const machines = createdMachines(plan.writes);
    expect(machines).toHaveLength(MAX_MACHINE_CREATES_PER_PASS);
    const perSet = (name: string) => machines.filter((m) => m.metadata.labels?.['clusterless.dev/set-name'] === name).length;
    expect([perSet('ms-a'), perSet('ms-b')]).toEqual([80, 20]);
    expect(plan.requeueAfterSeconds).toBe(0);
  });
});
