/** The MachineDeployment planner, one reconcile at a time. */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineDeployment } from '../../../../functions/api/machine-deployment.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { planMachineDeployment, type MachineDeploymentPlanInput } from '../../../../functions/core/machinedeployment/rollout-planner.js';
import type { Write } from '../../../../functions/core/plan.js';
import { T0, at, cluster, daysAgo, machine, machineClass, machineDeployment, nodesFor, node, type MachineDeploymentOptions } from '../machineset/fixtures.js';

function input(
  md: MachineDeployment,
  machineSets: MachineSet[],
  machines: Machine[],
  extra: Partial<MachineDeploymentPlanInput> = {},
): MachineDeploymentPlanInput {
  return {
    machineDeployment: md,
    machineSets,
    machines,
    cluster: cluster(),
    machineClasses: [machineClass('small'), machineClass('large')],
    observed: { instances: [], nodes: nodesFor(machines) },
    now: T0,
    ...extra,
  };
}

/** The set the deployment would create for its template, as stored (uid, creation time, revision). */
function storedSetOf(md: MachineDeployment, opts: { replicas: number; revision: number; uid: string; created?: string }): MachineSet {
  const plan = planMachineDeployment(input(md, [], []));
  const ms = plan.machineSets[0]!;
  return {
    ...ms,
    metadata: {
      ...ms.metadata,
      uid: opts.uid,
      resourceVersion: '7',
      generation: 1,
      creationTimestamp: opts.created ?? daysAgo(20),
      annotations: { ...ms.metadata.annotations, 'clusterless.dev/revision': String(opts.revision) },
    },
    spec: { ...ms.spec, replicas: opts.replicas },
  };
}

function machinesOf(ms: MachineSet, n: number, prefix = ms.metadata.uid!): Machine[] {
  return Array.from({ length: n }, (_, i) => machine(`${prefix}-m${i}`, { owner: ms }));
}

const withVersion = (opts: MachineDeploymentOptions, version: string) => machineDeployment({ ...opts, version });
const byType = <T extends Write['type']>(writes: Write[], type: T) => writes.filter((w): w is Extract<Write, { type: T }> => w.type === type);
const setsOut = (writes: Write[]) =>
  Object.fromEntries(
    [...byType(writes, 'Create'), ...byType(writes, 'Update')]
      .filter((w) => w.object.kind === 'MachineSet')
      .map((w) => [w.object.metadata.name, (w.object as MachineSet).spec.replicas]),
  );
/** spec.replicas of each set after the plan: as written, or as it was. */
const replicasAfter = (writes: Write[], sets: MachineSet[]) => ({
  ...Object.fromEntries(sets.map((ms) => [ms.metadata.name, ms.spec.replicas])),
  ...setsOut(writes),
});

describe('a new deployment', () => {
  it('creates its MachineSet: name, labels, selector, owner, finalizer, revision 1, all replicas', () => {
    // Prepare
    const md = machineDeployment({ replicas: 3 });
    // Act
    const plan = planMachineDeployment(input(md, [], []));
    // Assess
    const [create] = byType(plan.writes, 'Create');
    const ms = create!.object as MachineSet;
    const hash = ms.metadata.labels![Labels.templateHash]!;
    expect(ms.metadata.name).toBe(`md-${hash}`);
    expect(ms.metadata.labels).toEqual({ [Labels.clusterName]: 'c1', [Labels.deploymentName]: 'md', [Labels.templateHash]: hash });
    expect(ms.spec.selector).toEqual({ matchLabels: { [Labels.clusterName]: 'c1', [Labels.deploymentName]: 'md', [Labels.templateHash]: hash } });
    expect(ms.spec.template.metadata.labels).toEqual(ms.metadata.labels);
    expect(ms.metadata.ownerReferences).toEqual([
      { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineDeployment', name: 'md', uid: 'md-uid', controller: true, blockOwnerDeletion: true },
    ]);
    expect(ms.metadata.finalizers).toEqual(['clusterless.dev/machine-set']);
    expect(ms.metadata.annotations).toEqual({ 'clusterless.dev/revision': '1', 'clusterless.dev/desired-replicas': '3', 'clusterless.dev/max-replicas': '4' });
    expect(ms.spec.replicas).toBe(3);
    const mdUpdate = byType(plan.writes, 'Update').find((w) => w.object.kind === 'MachineDeployment');
    expect(mdUpdate?.object.metadata.annotations).toEqual({ 'clusterless.dev/revision': '1' });
  });

  it('writes the deployment status once, the second write of the same object without resourceVersion', () => {
    // Act
    const plan = planMachineDeployment(input(machineDeployment(), [], []));
    // Assess
    const mdWrites = plan.writes.filter((w) => (w.type === 'Update' || w.type === 'UpdateStatus') && w.object.kind === 'MachineDeployment') as Extract<
      Write,
      { object: unknown }
    >[];
    expect(mdWrites.map((w) => [w.type, w.object.metadata.resourceVersion])).toEqual([
      ['Update', '1'],
      ['UpdateStatus', undefined],
    ]);
    expect(plan.status).toMatchObject({
      phase: 'ScalingUp',
      replicas: 0,
      observedGeneration: 1,
      selector: `${Labels.clusterName}=c1,${Labels.deploymentName}=md`,
    });
  });
});

describe('a template change', () => {
  const before = machineDeployment({ version: 'v1.30.5' });
  const oldSet = storedSetOf(before, { replicas: 3, revision: 1, uid: 'old' });
  const oldMachines = machinesOf(oldSet, 3);

  it('RollingUpdate: creates the new set within maxSurge, revision 2, and reports RollingOut', () => {
    // Prepare
    const md = withVersion({}, 'v1.31.2');
    // Act
    const plan = planMachineDeployment(input(md, [oldSet], oldMachines));
    // Assess
    const created = byType(plan.writes, 'Create')[0]!.object as MachineSet;
    expect(created.spec.replicas).toBe(1);
    expect(created.metadata.annotations?.['clusterless.dev/revision']).toBe('2');
    expect(replicasAfter(plan.writes, [oldSet])).toEqual({ [created.metadata.name]: 1, [oldSet.metadata.name]: 3 });
    expect(plan.notes).toContain(
      `MachineDeployment md: MachineSet ${created.metadata.name} (rev 2, current) created with 1 replicas, 0 machines, 0 available: 3 current Machines < 3 MachineDeployment spec.replicas + 1 maxSurge`,
    );
    expect(plan.status?.conditions?.find((c) => c.type === 'RollingOut')).toMatchObject({
      status: 'True',
      reason: 'RollingOut',
      message: 'Rolling out 3 not up-to-date replicas\n* Version v1.30.5, v1.31.2 required',
    });
  });

  it('RollingUpdate: scales the old set down once the new machine is available', () => {
    // Prepare
    const md = withVersion({}, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 1, revision: 2, uid: 'new', created: daysAgo(1) });
    const machines = [...oldMachines, ...machinesOf(newSet, 1)];
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], machines));
    // Assess
    expect(setsOut(plan.writes)[oldSet.metadata.name]).toBe(2);
    expect(plan.notes.some((n) => n.includes('4 available replicas > 3 minimum available replicas'))).toBe(true);
  });

  it('RollingUpdate stuck on an unavailable old machine: the deadlock breaker scales the old set down by one and says so', () => {
    // Prepare: replicas 3, maxSurge 1, maxUnavailable 0. The old set's first victim is an available machine marked
    // delete-machine, its unavailable machine comes after it: no scale-down fits in maxUnavailable, the new set may
    // not surge further. Cluster API's reconcileDeadlockBreaker (machinedeployment_rollout_rollingupdate.go).
    const md = withVersion({}, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 1, revision: 2, uid: 'new', created: daysAgo(1) });
    const [broken, marked, fine] = machinesOf(oldSet, 3);
    const markedForDeletion = { ...marked!, metadata: { ...marked!.metadata, annotations: { 'clusterless.dev/delete-machine': '' } } };
    const machines = [broken!, markedForDeletion, fine!, ...machinesOf(newSet, 1)];
    const nodes = [node(broken!.status!.nodeRef!.name, { ready: 'False' }), ...nodesFor([markedForDeletion, fine!, ...machinesOf(newSet, 1)])];
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], machines, { observed: { instances: [], nodes } }));
    // Assess
    expect(replicasAfter(plan.writes, [oldSet, newSet])).toEqual({ [oldSet.metadata.name]: 2, [newSet.metadata.name]: 1 });
    expect(plan.notes).toContain('MachineDeployment md: deadlock breaker: scaling an old MachineSet down by 1 although that may breach maxUnavailable');
  });

  it('RollingUpdate that can move within maxUnavailable never calls the deadlock breaker', () => {
    // Prepare: the same, but the unavailable old machine is the first victim: 3 -> 2 keeps 3 available.
    const md = withVersion({}, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 1, revision: 2, uid: 'new', created: daysAgo(1) });
    const [broken, ...rest] = machinesOf(oldSet, 3);
    const machines = [broken!, ...rest, ...machinesOf(newSet, 1)];
    const nodes = [node(broken!.status!.nodeRef!.name, { ready: 'False' }), ...nodesFor([...rest, ...machinesOf(newSet, 1)])];
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], machines, { observed: { instances: [], nodes } }));
    // Assess
    expect(replicasAfter(plan.writes, [oldSet, newSet])).toEqual({ [oldSet.metadata.name]: 2, [newSet.metadata.name]: 1 });
    expect(plan.notes.some((n) => n.includes('deadlock breaker'))).toBe(false);
  });

  it('Recreate: old sets to 0 first; the new set is not even created while old machines exist', () => {
    // Prepare
    const md = withVersion({ strategy: 'Recreate' }, 'v1.31.2');
    // Act
    const plan = planMachineDeployment(input(md, [oldSet], oldMachines));
    // Assess
    expect(byType(plan.writes, 'Create')).toEqual([]);
    expect(setsOut(plan.writes)).toEqual({ [oldSet.metadata.name]: 0 });
    expect(plan.notes).toContain('MachineDeployment md: Recreate waits for 3 old machine(s) to be deleted before creating new ones');
  });

  it('Recreate: creates the new set with every replica once the old machines are gone', () => {
    // Prepare
    const md = withVersion({ strategy: 'Recreate' }, 'v1.31.2');
    const emptied = { ...oldSet, spec: { ...oldSet.spec, replicas: 0 } };
    // Act
    const plan = planMachineDeployment(input(md, [emptied], []));
    // Assess
    expect((byType(plan.writes, 'Create')[0]!.object as MachineSet).spec.replicas).toBe(3);
  });

  it('OnDelete: the new set grows only into room users make by deleting old machines', () => {
    // Prepare
    const md = withVersion({ strategy: 'OnDelete' }, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 0, revision: 2, uid: 'new', created: daysAgo(1) });
    const aligned = { ...oldSet, spec: { ...oldSet.spec, replicas: 2 } };
    // Act
    const untouched = planMachineDeployment(input(md, [oldSet, newSet], oldMachines));
    const afterDelete = planMachineDeployment(input(md, [aligned, newSet], oldMachines.slice(1)));
    // Assess
    expect(replicasAfter(untouched.writes, [oldSet, newSet])).toEqual({ [oldSet.metadata.name]: 3, [newSet.metadata.name]: 0 });
    expect(replicasAfter(afterDelete.writes, [aligned, newSet])).toEqual({ [oldSet.metadata.name]: 2, [newSet.metadata.name]: 1 });
  });

  it('paused: no new set, no rollout; a scale is spread proportionally and Paused is True', () => {
    // Prepare
    const md = { ...withVersion({ paused: true, replicas: 6 }, 'v1.31.2') };
    const annotated = {
      ...oldSet,
      metadata: {
        ...oldSet.metadata,
        annotations: { ...oldSet.metadata.annotations, 'clusterless.dev/max-replicas': '4', 'clusterless.dev/desired-replicas': '3' },
      },
    };
    // Act
    const plan = planMachineDeployment(input(md, [annotated], oldMachines));
    // Assess
    expect(byType(plan.writes, 'Create')).toEqual([]);
    expect(setsOut(plan.writes)).toEqual({ [oldSet.metadata.name]: 6 });
    expect(plan.status?.conditions?.find((c) => c.type === 'Paused')).toMatchObject({
      status: 'True',
      reason: 'Paused',
      message: 'MachineDeployment spec.paused is set to true',
    });
  });

  it('a rollback to the old template makes the old set current again with a new revision number', () => {
    // Prepare: revision 2 (v1.31.2) is current, then the template goes back to v1.30.5.
    const current = storedSetOf(withVersion({}, 'v1.31.2'), { replicas: 3, revision: 2, uid: 'rev2', created: daysAgo(1) });
    const emptied = { ...oldSet, spec: { ...oldSet.spec, replicas: 0 } };
    // Act
    const plan = planMachineDeployment(input(before, [emptied, current], machinesOf(current, 3)));
    // Assess
    const reused = byType(plan.writes, 'Update').find((w) => w.object.metadata.name === oldSet.metadata.name)!.object;
    expect(reused.metadata.annotations).toMatchObject({ 'clusterless.dev/revision': '3', 'clusterless.dev/revision-history': '1' });
    expect((reused as MachineSet).spec.replicas).toBe(1);
    const mdUpdate = byType(plan.writes, 'Update').find((w) => w.object.kind === 'MachineDeployment')!;
    expect(mdUpdate.object.metadata.annotations?.['clusterless.dev/revision']).toBe('3');
  });
});

describe('guards', () => {
  it('a missing MachineClass blocks the new set and any scaling, and says why', () => {
    // Prepare
    const md = machineDeployment({ machineClass: 'huge' });
    // Act
    const plan = planMachineDeployment(input(md, [], []));
    // Assess
    expect(byType(plan.writes, 'Create')).toEqual([]);
    expect(plan.status?.conditions?.find((c) => c.type === 'ScalingUp')).toMatchObject({
      status: 'True',
      message: 'Scaling up from 0 to 3 replicas is blocked because MachineClass huge does not exist',
    });
  });

  it('Recreate keeps the old machines when the new set cannot be made (a missing MachineClass)', () => {
    // Prepare
    const old = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 3, revision: 1, uid: 'old' });
    const md = machineDeployment({ strategy: 'Recreate', version: 'v1.31.2', machineClass: 'huge' });
    // Act
    const plan = planMachineDeployment(input(md, [old], machinesOf(old, 3)));
    // Assess
    expect(replicasAfter(plan.writes, [old])).toEqual({ [old.metadata.name]: 3 });
    expect(byType(plan.writes, 'Create')).toEqual([]);
  });

  it('an invalid pinned failure domain fails the deployment', () => {
    // Prepare
    const md = machineDeployment({ failureDomain: 'z' });
    // Act
    const plan = planMachineDeployment(input(md, [], [], { cluster: cluster({ failureDomains: ['a', 'b'] }) }));
    // Assess
    expect(plan.status?.phase).toBe('Failed');
    expect(byType(plan.writes, 'Create')).toEqual([]);
  });

  it.each([
    { name: 'a paused cluster', md: machineDeployment(), c: cluster({ paused: true }), message: 'Cluster spec.paused is set to true' },
    {
      name: 'the paused annotation',
      md: { ...machineDeployment(), metadata: { ...machineDeployment().metadata, annotations: { 'clusterless.dev/paused': '' } } },
      c: cluster(),
      message: 'MachineDeployment has the clusterless.dev/paused annotation',
    },
  ])('$name: nothing but the Paused condition', ({ md, c, message }) => {
    // Act
    const plan = planMachineDeployment(input(md, [], [], { cluster: c }));
    // Assess
    expect(plan.writes.map((w) => w.type)).toEqual(['UpdateStatus']);
    expect(plan.status?.conditions).toEqual([
      { type: 'Paused', status: 'True', reason: 'Paused', message, lastTransitionTime: '2026-03-01T12:00:00Z', observedGeneration: 1 },
    ]);
  });

  it.each([
    { name: 'the one with the most replicas', a: { replicas: 1, created: daysAgo(20) }, b: { replicas: 2, created: daysAgo(10) }, current: 'md-b' },
    { name: 'with as many replicas, the oldest', a: { replicas: 1, created: daysAgo(10) }, b: { replicas: 1, created: daysAgo(20) }, current: 'md-b' },
    {
      name: 'with as many replicas and the same age, the first by name',
      a: { replicas: 1, created: daysAgo(10) },
      b: { replicas: 1, created: daysAgo(10) },
      current: 'md-a',
    },
  ])("of two sets with the deployment's template, $name is current", ({ a, b, current }) => {
    // Prepare: Cluster API's FindNewMachineSet takes one set of the template; the other is treated as old.
    const md = machineDeployment({ replicas: 2 });
    const named = (name: string, o: { replicas: number; created: string }) => {
      const ms = storedSetOf(md, { replicas: o.replicas, revision: 1, uid: name, created: o.created });
      return { ...ms, metadata: { ...ms.metadata, name } };
    };
    const sets = [named('md-b', b), named('md-a', a)];
    // Act
    const plan = planMachineDeployment(input(md, sets, []));
    // Assess: the plan lists the current set first.
    expect(plan.machineSets[0]?.metadata.name).toBe(current);
  });

  it('plans nothing for a deployment that is not stored yet (no uid)', () => {
    // Prepare
    const md = machineDeployment();
    delete md.metadata.uid;
    // Act
    const plan = planMachineDeployment(input(md, [], []));
    // Assess
    expect([plan.writes, plan.actions, plan.machineSets]).toEqual([[], [], []]);
    expect(plan.notes).toEqual(['MachineDeployment md: not stored yet (no uid), nothing to plan']);
  });

  it.each([
    { name: 'still being deleted', deleting: true, why: 'MachineSet NAME is still being deleted' },
    { name: 'owned by someone else', deleting: false, why: 'MachineSet NAME already exists with another template or owner' },
  ])('waits for the name of its new set while a set of that name is $name', ({ deleting, why }) => {
    // Prepare
    const md = machineDeployment();
    const wanted = storedSetOf(md, { replicas: 0, revision: 1, uid: 'other' });
    const clash = {
      ...wanted,
      metadata: {
        ...wanted.metadata,
        ownerReferences: [{ apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineDeployment', name: 'other', uid: 'other-md', controller: true }],
        ...(deleting ? { deletionTimestamp: daysAgo(0) } : {}),
      },
    } as MachineSet;
    // Act
    const plan = planMachineDeployment(input(md, [clash], []));
    // Assess
    expect(byType(plan.writes, 'Create')).toEqual([]);
    expect(plan.notes).toContain(`MachineDeployment md: cannot create the MachineSet for the current template: ${why.replace('NAME', wanted.metadata.name)}`);
  });

  it('names every rollout field that changed in RollingOut, the version first, and no label change (propagated in place)', () => {
    // Prepare
    const before = machineDeployment({ version: 'v1.30.5' });
    const oldSet = storedSetOf(before, { replicas: 3, revision: 1, uid: 'old' });
    const md = machineDeployment({ version: 'v1.31.2', machineClass: 'large' });
    md.spec.template.metadata = { ...md.spec.template.metadata, labels: { ...md.spec.template.metadata?.labels, team: 'a' } };
    // Act
    const plan = planMachineDeployment(input(md, [oldSet], machinesOf(oldSet, 3)));
    // Assess
    expect(plan.status?.conditions?.find((c) => c.type === 'RollingOut')?.message).toBe(
      'Rolling out 3 not up-to-date replicas\n* Version v1.30.5, v1.31.2 required\n* MachineClass small, large required',
    );
  });

  it('is Failed while one of its MachineSets reports a failure', () => {
    // Prepare
    const md = machineDeployment();
    const ms = storedSetOf(md, { replicas: 3, revision: 1, uid: 'ms' });
    ms.status = { ...ms.status, failureReason: 'InvalidConfiguration', failureMessage: 'broken' } as MachineSet['status'];
    // Act & Assess
    expect(planMachineDeployment(input(md, [ms], machinesOf(ms, 3))).status?.phase).toBe('Failed');
  });

  it('hands a set that is being deleted on to its MachineSet planner, after the sets it keeps', () => {
    // Prepare
    const md = machineDeployment();
    const current = storedSetOf(md, { replicas: 3, revision: 2, uid: 'cur' });
    const gone = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 0, revision: 1, uid: 'gone' });
    gone.metadata.deletionTimestamp = daysAgo(0);
    // Act
    const plan = planMachineDeployment(input(md, [gone, current], machinesOf(current, 3)));
    // Assess
    expect(plan.machineSets.map((x) => x.metadata.name)).toEqual([current.metadata.name, gone.metadata.name]);
  });

  it('adopts an orphan MachineSet that matches the selector', () => {
    // Prepare
    const md = machineDeployment();
    const orphan = storedSetOf(md, { replicas: 3, revision: 1, uid: 'orphan' });
    const { ownerReferences: _drop, ...metadata } = orphan.metadata;
    // Act
    const plan = planMachineDeployment(input(md, [{ ...orphan, metadata }], machinesOf(orphan, 3)));
    // Assess
    const update = byType(plan.writes, 'Update').find((w) => w.object.kind === 'MachineSet')!;
    expect(update.object.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'MachineDeployment', uid: 'md-uid', controller: true });
    expect(byType(plan.writes, 'Create')).toEqual([]);
  });
});

describe('deletion', () => {
  it('deletes its sets, then lets the deployment go', () => {
    // Prepare
    const md = { ...machineDeployment(), metadata: { ...machineDeployment().metadata, deletionTimestamp: '2026-03-01T11:00:00Z' } };
    const ms = storedSetOf(machineDeployment(), { replicas: 3, revision: 1, uid: 'ms' });
    // Act
    const busy = planMachineDeployment(input(md, [ms], machinesOf(ms, 3)));
    const done = planMachineDeployment(input(md, [], []));
    // Assess
    expect(byType(busy.writes, 'Delete').map((w) => w.ref.name)).toEqual([ms.metadata.name]);
    expect(busy.status).toMatchObject({ phase: 'ScalingDown' });
    expect(busy.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', message: 'Deletion in progress' });
    expect(byType(done.writes, 'RemoveFinalizer')).toEqual([
      {
        type: 'RemoveFinalizer',
        ref: { kind: 'MachineDeployment', namespace: 'default', name: 'md', uid: 'md-uid' },
        finalizer: 'clusterless.dev/machine-deployment',
      },
    ]);
  });
});

describe('history and status', () => {
  it('deletes old empty sets beyond revisionHistoryLimit once the rollout is complete, oldest revision first', () => {
    // Prepare
    const md = machineDeployment({ version: 'v1.31.2', revisionHistoryLimit: 1 });
    const current = storedSetOf(md, { replicas: 3, revision: 4, uid: 'rev4' });
    const olds = ['v1.30.1', 'v1.30.2', 'v1.30.3'].map((v, i) => storedSetOf(withVersion({}, v), { replicas: 0, revision: i + 1, uid: `rev${i + 1}` }));
    // Act
    const plan = planMachineDeployment(input(md, [...olds, current], machinesOf(current, 3)));
    // Assess
    expect(byType(plan.writes, 'Delete').map((w) => w.ref.name)).toEqual([olds[0]!.metadata.name, olds[1]!.metadata.name]);
    expect(plan.machineSets.map((ms) => ms.metadata.name).sort()).toEqual([current.metadata.name, olds[2]!.metadata.name].sort());
  });

  it('keeps history while a rollout is in progress', () => {
    // Prepare
    const md = machineDeployment({ version: 'v1.31.2', revisionHistoryLimit: 0 });
    const current = storedSetOf(md, { replicas: 3, revision: 3, uid: 'rev3' });
    const empty = storedSetOf(withVersion({}, 'v1.30.1'), { replicas: 0, revision: 1, uid: 'rev1' });
    // Act: the current set's machines are not available yet.
    const plan = planMachineDeployment(input(md, [empty, current], machinesOf(current, 3), { observed: { instances: [], nodes: [] } }));
    // Assess
    expect(byType(plan.writes, 'Delete')).toEqual([]);
  });

  it('Available follows replicas - maxUnavailable, and the requeue follows minReadySeconds', () => {
    // Prepare
    const md = machineDeployment({ replicas: 3, maxSurge: 1, maxUnavailable: 1, minReadySeconds: 30 });
    const ms = storedSetOf(md, { replicas: 3, revision: 1, uid: 'ms' });
    const machines = machinesOf(ms, 3);
    const nodes = [
      node(`${machines[0]!.metadata.name}-node`),
      node(`${machines[1]!.metadata.name}-node`, { since: at(-10) }),
      node(`${machines[2]!.metadata.name}-node`, { since: at(-25) }),
    ];
    // Act
    const plan = planMachineDeployment(input(md, [ms], machines, { observed: { instances: [], nodes } }));
    // Assess
    expect(plan.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 1, unavailableReplicas: 2, phase: 'Running' });
    expect(plan.status?.conditions?.find((c) => c.type === 'Available')).toMatchObject({
      status: 'False',
      reason: 'NotAvailable',
      message: '1 available replicas, at least 2 required (spec.strategy.rollingUpdate.maxUnavailable is 1, spec.replicas is 3)',
    });
    expect(plan.requeueAfterSeconds).toBe(5);
  });

  it.each([
    { name: 'scaling up', replicas: 5, up: 'True', down: 'False', phase: 'ScalingUp' },
    { name: 'scaling down', replicas: 1, up: 'False', down: 'True', phase: 'ScalingDown' },
    { name: 'running', replicas: 3, up: 'False', down: 'False', phase: 'Running' },
  ])('$name: ScalingUp $up, ScalingDown $down, phase $phase', ({ replicas, up, down, phase }) => {
    // Prepare
    const md = machineDeployment({ replicas });
    const ms = storedSetOf(machineDeployment({ replicas: 3 }), { replicas: 3, revision: 1, uid: 'ms' });
    // Act
    const plan = planMachineDeployment(input(md, [ms], machinesOf(ms, 3)));
    // Assess
    expect(plan.status?.phase).toBe(phase);
    expect(plan.status?.conditions?.find((c) => c.type === 'ScalingUp')?.status).toBe(up);
    expect(plan.status?.conditions?.find((c) => c.type === 'ScalingDown')?.status).toBe(down);
  });
});

describe('paused deployments', () => {
  const before = machineDeployment({ version: 'v1.30.5' });
  /** Two sets of 5 with the max/desired-replicas annotations given (undefined: none at all), scaled 10 -> 11 (maxSurge 1). */
  function pausedScale(annotation: string | undefined, statusReplicas?: number) {
    const md = withVersion({ paused: true, replicas: 11 }, 'v1.31.2');
    if (statusReplicas !== undefined) md.status = { replicas: statusReplicas };
    const annotate = (ms: MachineSet): MachineSet => {
      const { 'clusterless.dev/max-replicas': _m, 'clusterless.dev/desired-replicas': _d, ...rest } = ms.metadata.annotations ?? {};
      const annotations =
        annotation === undefined ? undefined : { ...rest, 'clusterless.dev/max-replicas': annotation, 'clusterless.dev/desired-replicas': annotation };
      const { annotations: _a, ...metadata } = ms.metadata;
      return { ...ms, metadata: annotations ? { ...metadata, annotations } : metadata };
    };
    const oldSet = annotate(storedSetOf(before, { replicas: 5, revision: 1, uid: 'old', created: daysAgo(20) }));
    const newSet = annotate(storedSetOf({ ...md, spec: { ...md.spec, paused: false } }, { replicas: 5, revision: 2, uid: 'new', created: daysAgo(1) }));
    const plan = planMachineDeployment(input(md, [oldSet, newSet], [...machinesOf(oldSet, 5), ...machinesOf(newSet, 5)]));
    return { plan, sizes: replicasAfter(plan.writes, [oldSet, newSet]), oldName: oldSet.metadata.name, newName: newSet.metadata.name };
  }

  it('spreads a scale in proportion to the size the sets were last scaled for (their max-replicas annotation)', () => {
    // Act: 5 * 12 / 10 = 6 each (Kubernetes deployment/util GetReplicaSetProportion).
    const { plan, sizes, oldName, newName } = pausedScale('10');
    // Assess
    expect(sizes).toEqual({ [oldName]: 6, [newName]: 6 });
    expect(plan.notes).toContain('MachineDeployment md: rollout paused, scaling proportionally only');
  });

  it.each([
    { name: 'no annotations', annotation: undefined },
    { name: 'an annotation with a prefix', annotation: 'x10' },
    { name: 'an annotation with a suffix', annotation: '10x' },
    { name: 'an annotation that is no number', annotation: 'ten' },
  ])('with $name and no observed size, the whole change goes to the largest, newest set', ({ annotation }) => {
    // Act
    const { sizes, oldName, newName } = pausedScale(annotation);
    // Assess
    expect(sizes).toEqual({ [oldName]: 5, [newName]: 7 });
  });

  it("with no annotations, the deployment's last observed size is the base of the proportion", () => {
    // Act
    const { sizes, oldName, newName } = pausedScale(undefined, 10);
    // Assess
    expect(sizes).toEqual({ [oldName]: 6, [newName]: 6 });
  });

  it('a saturated new set (all replicas available, desired-replicas current) takes the old set to 0', () => {
    // Prepare
    const md = withVersion({ paused: true, replicas: 3 }, 'v1.31.2');
    const oldSet = storedSetOf(before, { replicas: 1, revision: 1, uid: 'old' });
    const newSet = storedSetOf({ ...md, spec: { ...md.spec, paused: false } }, { replicas: 3, revision: 2, uid: 'new', created: daysAgo(1) });
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], [...machinesOf(oldSet, 1), ...machinesOf(newSet, 3)]));
    // Assess
    expect(replicasAfter(plan.writes, [oldSet, newSet])).toEqual({ [oldSet.metadata.name]: 0, [newSet.metadata.name]: 3 });
  });

  it('a paused reconcile writes the Paused condition once and says why it is paused', () => {
    // Prepare
    const md = machineDeployment();
    const first = planMachineDeployment(input(md, [], [], { cluster: cluster({ paused: true }) }));
    const written = byType(first.writes, 'UpdateStatus')[0]!.object as MachineDeployment;
    // Act
    const second = planMachineDeployment(input(written, [], [], { cluster: cluster({ paused: true }) }));
    // Assess
    expect(written.status?.conditions?.map((c) => [c.type, c.status])).toEqual([['Paused', 'True']]);
    expect(first.notes).toEqual(['MachineDeployment md: reconciliation paused (Cluster spec.paused is set to true)']);
    const both = planMachineDeployment(
      input({ ...md, metadata: { ...md.metadata, annotations: { 'clusterless.dev/paused': '' } } }, [], [], { cluster: cluster({ paused: true }) }),
    );
    expect(both.notes).toEqual([
      'MachineDeployment md: reconciliation paused (Cluster spec.paused is set to true, MachineDeployment has the clusterless.dev/paused annotation)',
    ]);
    expect(second.writes).toEqual([]);
  });
});

describe('sets being deleted', () => {
  it('count against maxSurge with the machines they have left, not with their spec.replicas', () => {
    // Prepare
    const md = machineDeployment({ replicas: 3, version: 'v1.31.2' });
    const current = storedSetOf(md, { replicas: 2, revision: 2, uid: 'cur', created: daysAgo(1) });
    const gone = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 2, revision: 1, uid: 'gone' });
    gone.metadata.deletionTimestamp = daysAgo(0);
    // Act: the set being deleted has no machine left, only its finalizer.
    const plan = planMachineDeployment(input(md, [gone, current], machinesOf(current, 2)));
    // Assess
    expect(setsOut(plan.writes)).toEqual({ [current.metadata.name]: 3 });
  });
});

describe('selection and adoption', () => {
  it('selects with its own selector', () => {
    // Prepare
    const custom = machineDeployment();
    custom.spec.selector = { matchLabels: { [Labels.clusterName]: 'c1', 'example.com/pool': 'blue' } };
    custom.spec.template.metadata = { ...custom.spec.template.metadata, labels: { ...custom.spec.template.metadata?.labels, 'example.com/pool': 'blue' } };
    // Act
    const fromCustom = planMachineDeployment(input(custom, [], []));
    // Assess
    expect(fromCustom.status?.selector).toBe(`${Labels.clusterName}=c1,example.com/pool=blue`);
  });

  it('copies its own annotations to a new MachineSet, except those of the deployment only (mdutil annotationsToSkip)', () => {
    // Prepare
    const md = machineDeployment();
    md.metadata.annotations = { 'example.com/team': 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'clusterless.dev/revision': '7' };
    // Act
    const plan = planMachineDeployment(input(md, [], []));
    // Assess
    expect((byType(plan.writes, 'Create')[0]!.object as MachineSet).metadata.annotations).toEqual({
      'example.com/team': 'a',
      'clusterless.dev/revision': '1',
      'clusterless.dev/desired-replicas': '3',
      'clusterless.dev/max-replicas': '4',
    });
  });

  it('says which orphan MachineSet it adopts', () => {
    // Prepare
    const md = machineDeployment();
    const orphan = storedSetOf(md, { replicas: 3, revision: 1, uid: 'orphan' });
    const { ownerReferences: _drop, ...metadata } = orphan.metadata;
    // Act
    const plan = planMachineDeployment(input(md, [{ ...orphan, metadata }], machinesOf(orphan, 3)));
    // Assess
    expect(plan.notes).toContain(`MachineDeployment md: adopting MachineSet ${orphan.metadata.name}`);
  });

  it('leaves the MachineSets it already controls as they are: a settled deployment writes nothing and says nothing', () => {
    // Prepare
    const md = machineDeployment();
    const ms = storedSetOf(md, { replicas: 3, revision: 1, uid: 'ms' });
    const settled = { ...md, metadata: { ...md.metadata, annotations: { 'clusterless.dev/revision': '1' } } };
    const first = planMachineDeployment(input(settled, [ms], machinesOf(ms, 3)));
    const withStatus = { ...settled, status: first.status };
    // Act
    const plan = planMachineDeployment(input(withStatus, [ms], machinesOf(ms, 3)));
    // Assess
    expect([plan.writes, plan.notes, plan.requeueAfterSeconds]).toEqual([[], [], undefined]);
  });

  it('does not rewrite the owner references of a set it controls that has other owners too', () => {
    // Prepare
    const md = machineDeployment();
    const ms = storedSetOf(md, { replicas: 3, revision: 1, uid: 'ms' });
    ms.metadata.ownerReferences = [...(ms.metadata.ownerReferences ?? []), { apiVersion: 'example.com/v1', kind: 'Team', name: 'a', uid: 'team-a' }];
    const settled = { ...md, metadata: { ...md.metadata, annotations: { 'clusterless.dev/revision': '1' } } };
    // Act
    const plan = planMachineDeployment(input(settled, [ms], machinesOf(ms, 3)));
    // Assess
    expect(plan.writes.filter((w) => w.type === 'Update' && w.object.kind === 'MachineSet')).toEqual([]);
  });

  it.each([
    { name: 'is being deleted', change: (ms: MachineSet) => ({ ...ms, metadata: { ...ms.metadata, deletionTimestamp: daysAgo(0) } }) },
    { name: 'is in another namespace', change: (ms: MachineSet) => ({ ...ms, metadata: { ...ms.metadata, namespace: 'other' } }) },
    { name: 'is of another cluster', change: (ms: MachineSet) => ({ ...ms, spec: { ...ms.spec, clusterName: 'c2' } }) },
  ])('does not adopt an orphan MachineSet that $name', ({ change }) => {
    // Prepare
    const md = machineDeployment();
    const orphan = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 3, revision: 1, uid: 'orphan' });
    const { ownerReferences: _drop, ...metadata } = orphan.metadata;
    // Act
    const plan = planMachineDeployment(input(md, [change({ ...orphan, metadata })], machinesOf(orphan, 3)));
    // Assess
    expect(plan.notes.some((n) => n.includes('adopting'))).toBe(false);
    expect(plan.writes.some((w) => w.type === 'Update' && w.object.metadata.name === orphan.metadata.name)).toBe(false);
  });

  it('of two sets of its template with as many replicas and the same age, the first by name is current whatever their order', () => {
    // Prepare
    const md = machineDeployment({ replicas: 2 });
    const named = (name: string) => {
      const ms = storedSetOf(md, { replicas: 1, revision: 1, uid: name, created: daysAgo(10) });
      return { ...ms, metadata: { ...ms.metadata, name } };
    };
    // Act
    const ab = planMachineDeployment(input(md, [named('md-a'), named('md-b')], []));
    const ba = planMachineDeployment(input(md, [named('md-b'), named('md-a')], []));
    // Assess
    expect([ab.machineSets[0]?.metadata.name, ba.machineSets[0]?.metadata.name]).toEqual(['md-a', 'md-a']);
  });

  it('a MachineClass of the same name in another namespace is not the one of its template', () => {
    // Prepare
    const md = machineDeployment({ machineClass: 'huge' });
    const elsewhere = machineClass('huge');
    elsewhere.metadata.namespace = 'other';
    // Act
    const plan = planMachineDeployment(input(md, [], [], { machineClasses: [elsewhere] }));
    // Assess
    expect(byType(plan.writes, 'Create')).toEqual([]);
    expect(plan.notes).toContain('MachineDeployment md: cannot create the MachineSet for the current template: MachineClass huge does not exist');
  });

  it('a MachineSet of the same name in another namespace does not block the new set', () => {
    // Prepare
    const md = machineDeployment();
    const wanted = storedSetOf(md, { replicas: 0, revision: 1, uid: 'other' });
    const { ownerReferences: _drop, ...metadata } = wanted.metadata;
    const elsewhere = { ...wanted, metadata: { ...metadata, namespace: 'other' } };
    // Act
    const plan = planMachineDeployment(input(md, [elsewhere], []));
    // Assess
    expect(byType(plan.writes, 'Create').map((w) => w.object.metadata.name)).toEqual([wanted.metadata.name]);
  });

  it('a missing MachineClass blocks scaling up but does not fail the deployment, whatever its failure domain', () => {
    // Prepare
    const md = machineDeployment({ machineClass: 'huge', failureDomain: 'z' });
    // Act
    const plan = planMachineDeployment(input(md, [], [], { cluster: cluster({ failureDomains: ['a', 'b'] }) }));
    // Assess
    expect(plan.status?.phase).toBe('ScalingUp');
  });
});

describe('strategies and notes', () => {
  it('OnDelete never scales an old set down by itself, even where a RollingUpdate would (an unavailable old machine)', () => {
    // Prepare
    const before = machineDeployment({ version: 'v1.30.5' });
    const oldSet = storedSetOf(before, { replicas: 3, revision: 1, uid: 'old' });
    const md = withVersion({ strategy: 'OnDelete' }, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 0, revision: 2, uid: 'new', created: daysAgo(1) });
    const [broken, ...rest] = machinesOf(oldSet, 3);
    const nodes = [node(broken!.status!.nodeRef!.name, { ready: 'False' }), ...nodesFor(rest)];
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], [broken!, ...rest], { observed: { instances: [], nodes } }));
    // Assess
    expect(replicasAfter(plan.writes, [oldSet, newSet])).toEqual({ [oldSet.metadata.name]: 3, [newSet.metadata.name]: 0 });
  });

  it('a set created without room to grow is noted with its size and no reason', () => {
    // Prepare: maxSurge 0, the old set holds all replicas.
    const oldSet = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 3, revision: 1, uid: 'old' });
    const md = withVersion({ maxSurge: 0, maxUnavailable: 1 }, 'v1.31.2');
    // Act
    const plan = planMachineDeployment(input(md, [oldSet], machinesOf(oldSet, 3)));
    // Assess
    const created = byType(plan.writes, 'Create')[0]!.object as MachineSet;
    expect(plan.notes).toContain(`MachineDeployment md: MachineSet ${created.metadata.name} (rev 2, current) created with 0 replicas, 0 machines, 0 available`);
  });

  it('the deadlock breaker is noted on the current set, which keeps its size', () => {
    // Prepare: as in 'RollingUpdate stuck on an unavailable old machine'.
    const oldSet = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 3, revision: 1, uid: 'old' });
    const md = withVersion({}, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 1, revision: 2, uid: 'new', created: daysAgo(1) });
    const [broken, marked, fine] = machinesOf(oldSet, 3);
    const markedForDeletion = { ...marked!, metadata: { ...marked!.metadata, annotations: { 'clusterless.dev/delete-machine': '' } } };
    const machines = [broken!, markedForDeletion, fine!, ...machinesOf(newSet, 1)];
    const nodes = [node(broken!.status!.nodeRef!.name, { ready: 'False' }), ...nodesFor([markedForDeletion, fine!, ...machinesOf(newSet, 1)])];
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], machines, { observed: { instances: [], nodes } }));
    // Assess
    expect(plan.notes).toContain(
      `MachineDeployment md: MachineSet ${newSet.metadata.name} (rev 2, current) 1 replicas, 1 machines, 1 available: scaling down by 1 to unblock rollout stuck due to unavailable Machine on oldMS`,
    );
    // The old set it scales down has no reason of its own: the note above gives it.
    expect(plan.notes).toContain(`MachineDeployment md: MachineSet ${oldSet.metadata.name} (rev 1, old) from 3 to 2 replicas, 3 machines, 2 available`);
  });

  it('RollingOut names the changes of the old sets that still have machines, the version first, then by name', () => {
    // Prepare: an empty old set of another version, an old set of another version and labels, then one of another
    // version and class.
    const emptyOlder = storedSetOf(machineDeployment({ version: 'v1.29.0' }), { replicas: 0, revision: 1, uid: 'empty' });
    const labelled = machineDeployment({ version: 'v1.31.1' });
    labelled.spec.template.metadata = { ...labelled.spec.template.metadata, labels: { ...labelled.spec.template.metadata?.labels, team: 'a' } };
    const relabel = storedSetOf(labelled, { replicas: 1, revision: 2, uid: 'relabel' });
    const classic = storedSetOf(machineDeployment({ machineClass: 'large', version: 'v1.30.5' }), { replicas: 2, revision: 3, uid: 'classic' });
    const md = machineDeployment({ version: 'v1.31.2' });
    // Act
    const plan = planMachineDeployment(input(md, [emptyOlder, relabel, classic], [...machinesOf(relabel, 1), ...machinesOf(classic, 2)]));
    // Assess
    expect(plan.status?.conditions?.find((c) => c.type === 'RollingOut')?.message).toBe(
      'Rolling out 3 not up-to-date replicas\n* Version v1.30.5, v1.31.2 required\n* Version v1.31.1, v1.31.2 required\n* MachineClass large, small required',
    );
  });

  it('OnDelete notes every reason a set is scaled for', () => {
    // Prepare: the old set has 5 replicas but 4 machines left, and the deployment was scaled down to 2.
    const oldSet = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 5, revision: 1, uid: 'old' });
    const md = withVersion({ strategy: 'OnDelete', replicas: 2 }, 'v1.31.2');
    const newSet = storedSetOf(md, { replicas: 0, revision: 2, uid: 'new', created: daysAgo(1) });
    // Act
    const plan = planMachineDeployment(input(md, [oldSet, newSet], machinesOf(oldSet, 4)));
    // Assess
    expect(plan.notes).toContain(
      `MachineDeployment md: MachineSet ${oldSet.metadata.name} (rev 1, old) from 5 to 2 replicas, 4 machines, 4 available: scale down to align to existing Machines, scale down to align MachineSet spec.replicas to MachineDeployment spec.replicas`,
    );
  });

  it('keeps its history while it has no current set, however complete it looks', () => {
    // Prepare: replicas 0, the template's class is missing, an old empty set beyond a history limit of 0.
    const md = machineDeployment({ replicas: 0, revisionHistoryLimit: 0, machineClass: 'huge' });
    const empty = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 0, revision: 1, uid: 'rev1' });
    // Act
    const plan = planMachineDeployment(input(md, [empty], []));
    // Assess
    expect(byType(plan.writes, 'Delete')).toEqual([]);
  });

  it('says why it deletes an old MachineSet of its history', () => {
    // Prepare
    const md = machineDeployment({ version: 'v1.31.2', revisionHistoryLimit: 0 });
    const current = storedSetOf(md, { replicas: 3, revision: 2, uid: 'rev2' });
    const empty = storedSetOf(withVersion({}, 'v1.30.1'), { replicas: 0, revision: 1, uid: 'rev1' });
    // Act
    const plan = planMachineDeployment(input(md, [empty, current], machinesOf(current, 3)));
    // Assess
    expect(byType(plan.writes, 'Delete').map((w) => w.reason)).toEqual(['revision 1 is beyond revisionHistoryLimit 0']);
    expect(plan.notes).toContain(`MachineDeployment md: deleting old MachineSet ${empty.metadata.name} (revision 1), beyond revisionHistoryLimit 0`);
  });
});

describe('deletion, in detail', () => {
  const deleting = (opts: { finalizer?: boolean } = {}) => {
    const md = machineDeployment();
    md.metadata.deletionTimestamp = '2026-03-01T11:00:00Z';
    if (opts.finalizer === false) delete md.metadata.finalizers;
    return md;
  };

  it('deletes the sets not yet deleting, waits for all of them, and counts their machines', () => {
    // Prepare
    const md = deleting();
    const kept = storedSetOf(machineDeployment(), { replicas: 3, revision: 2, uid: 'kept' });
    const going = storedSetOf(machineDeployment({ version: 'v1.30.5' }), { replicas: 0, revision: 1, uid: 'going' });
    going.metadata.deletionTimestamp = daysAgo(0);
    // Act
    const plan = planMachineDeployment(input(md, [kept, going], [...machinesOf(kept, 3), ...machinesOf(going, 1)]));
    // Assess
    expect(byType(plan.writes, 'Delete').map((w) => [w.ref.name, w.reason])).toEqual([[kept.metadata.name, 'MachineDeployment md is being deleted']]);
    expect(byType(plan.writes, 'RemoveFinalizer')).toEqual([]);
    expect(plan.notes).toEqual([`MachineDeployment md: deleting, waiting for ${kept.metadata.name}, ${going.metadata.name} to go`]);
    expect(plan.status).toMatchObject({ replicas: 4, readyReplicas: 4, availableReplicas: 4, updatedReplicas: 0 });
    expect(plan.machineSets.map((ms) => ms.metadata.name)).toEqual([going.metadata.name]);
  });

  it('once no set is left, removes its finalizer if it has one, says so, and writes its status only when it changed', () => {
    // Prepare
    const md = deleting();
    // Act
    const done = planMachineDeployment(input(md, [], []));
    const written = byType(done.writes, 'UpdateStatus')[0]?.object as MachineDeployment;
    const again = planMachineDeployment(input({ ...written, metadata: md.metadata }, [], []));
    const noFinalizer = planMachineDeployment(input(deleting({ finalizer: false }), [], []));
    // Assess
    expect(done.writes.map((w) => w.type)).toEqual(['RemoveFinalizer', 'UpdateStatus']);
    expect(done.notes).toEqual(['MachineDeployment md: deleted, no MachineSet left']);
    expect(again.writes.map((w) => w.type)).toEqual(['RemoveFinalizer']);
    expect(byType(noFinalizer.writes, 'RemoveFinalizer')).toEqual([]);
  });
});
