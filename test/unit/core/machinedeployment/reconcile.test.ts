/** One reconcile of a deployment and its sets: the MachineSet planners run on the sets as the deployment plan leaves them. */
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { reconcileMachineDeployment, NEW_MACHINE_SET_REQUEUE_SECONDS } from '../../../../functions/core/machinedeployment/reconcile.js';
import { planMachineDeployment, type MachineDeploymentPlanInput } from '../../../../functions/core/machinedeployment/rollout-planner.js';
import type { Write } from '../../../../functions/core/plan.js';
import { T0, cluster, daysAgo, machine, machineClass, machineDeployment, node } from '../machineset/fixtures.js';

function input(
  md: MachineDeployment,
  machineSets: MachineSet[],
  machines: Machine[],
  nodes = machines.map((m) => node(`${m.metadata.name}-node`)),
): MachineDeploymentPlanInput {
  return { machineDeployment: md, machineSets, machines, cluster: cluster(), machineClasses: [machineClass()], observed: { instances: [], nodes }, now: T0 };
}

function storedSetOf(md: MachineDeployment, replicas: number, revision: number, uid: string): MachineSet {
  const ms = planMachineDeployment(input(md, [], [])).machineSets[0]!;
  return {
    ...ms,
    metadata: {
      ...ms.metadata,
      uid,
      resourceVersion: '9',
      generation: 1,
      creationTimestamp: daysAgo(revision === 1 ? 20 : 1),
      annotations: { ...ms.metadata.annotations, 'clusterless.dev/revision': String(revision) },
    },
    spec: { ...ms.spec, replicas },
  };
}

const ofType = <T extends Write['type']>(writes: Write[], type: T) => writes.filter((w): w is Extract<Write, { type: T }> => w.type === type);

describe('reconcileMachineDeployment', () => {
  it('creates a new MachineSet, plans its machines in the next reconcile, and asks for it', () => {
    // Act
    const r = reconcileMachineDeployment(input(machineDeployment({ replicas: 3 }), [], []));
    // Assess
    expect(ofType(r.writes, 'Create').map((w) => w.object.kind)).toEqual(['MachineSet']);
    expect(r.requeueAfterSeconds).toBe(NEW_MACHINE_SET_REQUEUE_SECONDS);
  });

  it('the old set loses exactly the machine the deployment planner counted on: the unhealthy one', () => {
    // Prepare: replicas 3, maxSurge 1, maxUnavailable 0; one old machine has a NotReady node.
    const v1 = machineDeployment({ version: 'v1.30.5' });
    const v2 = machineDeployment({ version: 'v1.31.2' });
    const oldSet = storedSetOf(v1, 3, 1, 'old');
    const newSet = storedSetOf(v2, 1, 2, 'new');
    const olds = [0, 1, 2].map((i) => machine(`old-${i}`, { owner: oldSet }));
    const fresh = machine('new-0', { owner: newSet });
    const nodes = [node('old-0-node'), node('old-1-node', { ready: 'False' }), node('old-2-node'), node('new-0-node')];
    // Act
    const r = reconcileMachineDeployment(input(v2, [oldSet, newSet], [...olds, fresh], nodes));
    // Assess
    expect(ofType(r.writes, 'Delete').map((w) => w.ref.name)).toEqual(['old-1']);
    expect(r.notes.some((n) => n.includes('deadlock'))).toBe(false);
  });

  it('writes a set first as the deployment wants it, then its status without resourceVersion (one guarded write per object)', () => {
    // Prepare
    const v2 = machineDeployment({ version: 'v1.31.2', replicas: 4 });
    const set = storedSetOf(v2, 3, 1, 'set');
    const machines = [0, 1, 2].map((i) => machine(`m-${i}`, { owner: set }));
    // Act
    const r = reconcileMachineDeployment(input(v2, [set], machines));
    // Assess
    const writesOfSet = r.writes.filter((w) => (w.type === 'Update' || w.type === 'UpdateStatus') && w.object.metadata.name === set.metadata.name) as Extract<
      Write,
      { object: unknown }
    >[];
    expect(writesOfSet.map((w) => [w.type, w.object.metadata.resourceVersion])).toEqual([
      ['Update', '9'],
      ['UpdateStatus', undefined],
    ]);
    expect(ofType(r.writes, 'Create').filter((w) => w.object.kind === 'Machine')).toHaveLength(1);
  });

  it('does not plan the machines of a set the deployment deletes in the same plan', () => {
    // Prepare: complete rollout, limit 0, the old empty set goes.
    const v2 = machineDeployment({ version: 'v1.31.2', revisionHistoryLimit: 0 });
    const current = storedSetOf(v2, 3, 2, 'cur');
    const empty = storedSetOf(machineDeployment({ version: 'v1.30.5' }), 0, 1, 'old');
    const machines = [0, 1, 2].map((i) => machine(`m-${i}`, { owner: current }));
    // Act
    const r = reconcileMachineDeployment(input(v2, [empty, current], machines));
    // Assess
    expect(ofType(r.writes, 'Delete').map((w) => w.ref.name)).toEqual([empty.metadata.name]);
    expect(r.machineSets.map((p) => p.status?.replicas)).toEqual([3]);
  });
});

describe('reconcileMachineDeployment, classes and the create budget', () => {
  const twoShortSets = () => {
    // replicas 4: the old set holds 2 replicas, the new set 2, neither has a machine yet.
    const v2 = machineDeployment({ version: 'v1.31.2', replicas: 4 });
    return { v2, sets: [storedSetOf(machineDeployment({ version: 'v1.30.5', replicas: 4 }), 2, 1, 'old'), storedSetOf(v2, 2, 2, 'new')] };
  };
  const machineCreates = (r: ReturnType<typeof reconcileMachineDeployment>) => ofType(r.writes, 'Create').filter((w) => w.object.kind === 'Machine').length;

  it('the create budget of the pass is shared by the sets, in turn', () => {
    // Prepare
    const { v2, sets } = twoShortSets();
    // Act
    const unbounded = reconcileMachineDeployment(input(v2, sets, []));
    const bounded = reconcileMachineDeployment({ ...input(v2, sets, []), createBudget: 2 });
    // Assess
    expect(machineCreates(unbounded)).toBe(5);
    expect(machineCreates(bounded)).toBe(2);
  });

  it.each([
    { name: 'of another name', classes: () => [machineClass('large')] },
    {
      name: 'of the same name in another namespace',
      classes: () => {
        const c = machineClass();
        c.metadata.namespace = 'other';
        return [c];
      },
    },
  ])("a set's machines are not made from a MachineClass $name", ({ classes }) => {
    // Prepare
    const v2 = machineDeployment({ version: 'v1.31.2', replicas: 3 });
    const set = storedSetOf(v2, 3, 1, 'set');
    // Act
    const r = reconcileMachineDeployment({ ...input(v2, [set], [machine('m-0', { owner: set })]), machineClasses: classes() });
    // Assess
    expect(machineCreates(r)).toBe(0);
  });

  it('a settled deployment asks for no early look', () => {
    // Prepare
    const v2 = machineDeployment({ version: 'v1.31.2', replicas: 1 });
    const set = storedSetOf(v2, 1, 1, 'set');
    // Act
    const r = reconcileMachineDeployment(input(v2, [set], [machine('m-0', { owner: set })]));
    // Assess
    expect(r.requeueAfterSeconds).toBeUndefined();
    expect(r.writes.every((w) => typeof w === 'object')).toBe(true);
  });

  it('a new deployment writes its set and itself, nothing else', () => {
    const r = reconcileMachineDeployment(input(machineDeployment({ replicas: 3 }), [], []));
    expect(r.writes.map((w) => (typeof w === 'object' ? `${w.type} ${'object' in w ? w.object.kind : w.ref.kind}` : w))).toEqual([
      'Create MachineSet',
      'Update MachineDeployment',
      'UpdateStatus MachineDeployment',
    ]);
  });
});
