/** One reconcile of a whole cluster (planClusterReconcile): what it asks of all the planners together. */
import { describe, expect, it } from 'vitest';
import type { ApiObject } from '../../../functions/api/kind.js';
import type { Machine } from '../../../functions/api/machine.js';
import type { MachineSet } from '../../../functions/api/machine-set.js';
import { MAX_MACHINE_CREATES_PER_PASS } from '../../../functions/core/machineset/planner.js';
import type { Write } from '../../../functions/core/plan.js';
import type { InstanceFact } from '../../../functions/core/observed.js';
import { clusterObjectsOf, orphanInstanceActions, planClusterReconcile } from '../../../functions/core/reconcile.js';
import { T0, cluster, machine, machineClass, machineDeployment, machineSet } from './machineset/fixtures.js';

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

describe('clusterObjectsOf', () => {
  const cp = (name: string, created: string) =>
    ({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name, namespace: 'default', creationTimestamp: created },
      spec: {},
    }) as unknown as ApiObject;

  it('plans nothing of a cluster that is not in the store', () => {
    // Act & Assess
    expect(clusterObjectsOf('c1', [cluster({ name: 'c2' }), machineSet()], [])).toBeUndefined();
  });

  it("sorts one cluster's objects by kind, and takes the oldest of two ControlPlanes as the cluster's", () => {
    // Prepare
    const ms = machineSet();
    const m = machine('m1', { owner: ms });
    const md = machineDeployment();
    const young = cp('cp-young', '2026-02-01T00:00:00Z');
    const old = cp('cp-old', '2026-01-01T00:00:00Z');
    // Act
    const objects = clusterObjectsOf('c1', [m, young, md, cluster(), ms, old], [machineClass()]);
    // Assess
    expect(objects).toMatchObject({
      cluster: { kind: 'Cluster' },
      machineSets: [ms],
      machines: [m],
      machineDeployments: [md],
      machineHealthChecks: [],
      machineClasses: [machineClass()],
    });
    expect(objects?.controlPlane?.metadata.name).toBe('cp-old');
    expect(clusterObjectsOf('c1', [cluster()], [])).not.toHaveProperty('controlPlane');
  });
});

describe('orphanInstanceActions', () => {
  const instance = (machineUid: string, state: InstanceFact['state']): InstanceFact => ({
    machineUid,
    instanceId: `i-${machineUid}`,
    providerID: `sim:///${machineUid}`,
    state,
  });

  it('terminates a live instance whose Machine is gone from the store, and nothing else', () => {
    // Prepare
    const objects = { cluster: cluster(), machineDeployments: [], machineSets: [], machines: [machine('m1')], machineHealthChecks: [] };
    const observed = { instances: [instance('m1-uid', 'running'), instance('lost', 'pending'), instance('done', 'terminated')], nodes: [] };
    // Act & Assess
    expect(orphanInstanceActions(objects, observed)).toEqual([
      { type: 'TerminateOrphanInstance', cluster: expect.objectContaining({ kind: 'Cluster', name: 'c1' }), instanceId: 'i-lost', machineUid: 'lost' },
    ]);
  });
});

describe('planClusterReconcile of a paused cluster', () => {
  it('writes only the Cluster and acts on nothing, whatever else waits (Cluster API: spec.paused stops every controller)', () => {
    // Prepare
    const objects = {
      cluster: cluster({ paused: true }),
      machineDeployments: [],
      machineSets: [machineSet({ replicas: 2 })],
      machines: [],
      machineHealthChecks: [],
      machineClasses: [machineClass()],
    };
    const observed = { instances: [{ machineUid: 'lost', instanceId: 'i-lost', providerID: 'sim:///lost', state: 'running' as const }], nodes: [] };
    // Act
    const plan = planClusterReconcile(objects, observed, T0);
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.writes.map((w) => (w.type === 'UpdateStatus' || w.type === 'Update' || w.type === 'Create' ? w.object.kind : w.ref.kind))).toEqual(['Cluster']);
  });
});

describe('planClusterReconcile of standalone MachineSets', () => {
  it('plans a set whose controlling MachineDeployment is gone as a standalone set', () => {
    // Prepare: Cluster API's MachineSet controller reconciles a set on its own; its deployment only scales it.
    const orphaned = machineSet({ name: 'ms-left', replicas: 2 });
    orphaned.metadata.ownerReferences = [
      { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineDeployment', name: 'gone', uid: 'gone-uid', controller: true },
    ];
    const objects = {
      cluster: cluster(),
      machineDeployments: [],
      machineSets: [orphaned],
      machines: [],
      machineHealthChecks: [],
      machineClasses: [machineClass()],
    };
    // Act
    const plan = planClusterReconcile(objects, { instances: [], nodes: [] }, T0);
    // Assess
    expect(createdMachines(plan.writes)).toHaveLength(2);
  });
});

describe('planClusterReconcile with deployments', () => {
  it('plans the sets of a deployment once, with the deployment, and shares the create budget with the standalone sets', () => {
    // Prepare: a deployment of 80 replicas (its set is made this pass) and a standalone set of 80.
    const md = machineDeployment({ replicas: 80 });
    const objects = {
      cluster: cluster(),
      machineDeployments: [md],
      machineSets: [machineSet({ name: 'ms-b', replicas: 80 })],
      machines: [],
      machineHealthChecks: [],
      machineClasses: [machineClass()],
    };
    // Act
    const plan = planClusterReconcile(objects, { instances: [], nodes: [] }, T0);
    // Assess: the deployment's new set gets its machines on the next pass; the standalone set takes its 80.
    expect(createdMachines(plan.writes)).toHaveLength(80);
    expect(plan.writes.filter((w) => w.type === 'Create' && w.object.kind === 'MachineSet')).toHaveLength(1);
  });

  it('a stored set of a deployment is planned with it, not a second time as a standalone set', () => {
    // Prepare
    const md = machineDeployment({ replicas: 2 });
    const first = planClusterReconcile(
      { cluster: cluster(), machineDeployments: [md], machineSets: [], machines: [], machineHealthChecks: [], machineClasses: [machineClass()] },
      { instances: [], nodes: [] },
      T0,
    );
    const created = first.writes.find((w): w is Extract<Write, { type: 'Create' }> => w.type === 'Create' && w.object.kind === 'MachineSet')!
      .object as MachineSet;
    const ms: MachineSet = { ...created, metadata: { ...created.metadata, uid: 'ms-uid' } };
    // Act
    const plan = planClusterReconcile(
      { cluster: cluster(), machineDeployments: [md], machineSets: [ms], machines: [], machineHealthChecks: [], machineClasses: [machineClass()] },
      { instances: [], nodes: [] },
      T0,
    );
    // Assess
    expect(createdMachines(plan.writes)).toHaveLength(2);
  });

  it("a standalone set's machines come from its own MachineClass only", () => {
    const objects = {
      cluster: cluster(),
      machineDeployments: [],
      machineSets: [machineSet({ name: 'ms-a', replicas: 2, machineClass: 'large' })],
      machines: [],
      machineHealthChecks: [],
      machineClasses: [machineClass('small')],
    };
    expect(createdMachines(planClusterReconcile(objects, { instances: [], nodes: [] }, T0).writes)).toEqual([]);
  });

  it('terminates instances whose Machine is gone', () => {
    const objects = { cluster: cluster(), machineDeployments: [], machineSets: [], machines: [], machineHealthChecks: [], machineClasses: [machineClass()] };
    const observed = { instances: [{ machineUid: 'lost', instanceId: 'i-lost', providerID: 'sim:///lost', state: 'running' as const }], nodes: [] };
    expect(planClusterReconcile(objects, observed, T0).actions.map((a) => a.type)).toContain('TerminateOrphanInstance');
  });
});

describe('clusterObjectsOf, more', () => {
  const cp = (name: string, created?: string) =>
    ({
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'ControlPlane',
      metadata: { name, namespace: 'default', ...(created ? { creationTimestamp: created } : {}) },
      spec: {},
    }) as unknown as ApiObject;

  it('takes the Cluster of that name, not another object of the same name', () => {
    const namesake = machineSet({ name: 'c1' });
    expect(clusterObjectsOf('c1', [namesake, cluster()], [])?.cluster.kind).toBe('Cluster');
  });

  it('takes the oldest ControlPlane whatever the order, one without creation time counting as the oldest', () => {
    const pick = (objects: ApiObject[]) => clusterObjectsOf('c1', [cluster(), ...objects], [])?.controlPlane?.metadata.name;
    const old = cp('cp-old', '2026-01-01T00:00:00Z');
    const young = cp('cp-young', '2026-02-01T00:00:00Z');
    expect([pick([old, young]), pick([young, old]), pick([young, cp('cp-unknown')])]).toEqual(['cp-old', 'cp-old', 'cp-unknown']);
  });

  it('sorts MachineHealthChecks into their own list', () => {
    const mhc = {
      apiVersion: 'clusterless.dev/v1alpha1',
      kind: 'MachineHealthCheck',
      metadata: { name: 'mhc', namespace: 'default' },
      spec: {},
    } as unknown as ApiObject;
    expect(clusterObjectsOf('c1', [cluster(), mhc], [])?.machineHealthChecks).toEqual([mhc]);
  });
});
