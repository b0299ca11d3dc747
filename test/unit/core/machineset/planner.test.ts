/** The MachineSet planner: scale up and down, adoption and release, deletion, pause, status. */
import { describe, expect, it } from 'vitest';
import { Labels } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import type { MachineSet } from '../../../../functions/api/machine-set.js';
import { ANNOTATIONS_FROM_TEMPLATE } from '../../../../functions/core/machineset/in-place.js';
import { MAX_MACHINE_CREATES_PER_PASS, planMachineSet, type MachineSetPlanInput } from '../../../../functions/core/machineset/planner.js';
import type { Write } from '../../../../functions/core/plan.js';
import { T0, at, cluster, daysAgo, machine, machineClass, machineSet, node, nodesFor } from './fixtures.js';

function input(ms: MachineSet, machines: Machine[], extra: Partial<MachineSetPlanInput> = {}): MachineSetPlanInput {
  return {
    machineSet: ms,
    machines,
    cluster: cluster(),
    machineClass: machineClass(),
    observed: { instances: [], nodes: nodesFor(machines) },
    now: T0,
    ...extra,
  };
}

const created = (writes: Write[]) => writes.filter((w): w is Extract<Write, { type: 'Create' }> => w.type === 'Create').map((w) => w.object as Machine);
const deleted = (writes: Write[]) => writes.filter((w): w is Extract<Write, { type: 'Delete' }> => w.type === 'Delete').map((w) => w.ref.name);
const updated = (writes: Write[]) => writes.filter((w): w is Extract<Write, { type: 'Update' }> => w.type === 'Update').map((w) => w.object as Machine);
const statusOf = (writes: Write[]) =>
  writes.find((w): w is Extract<Write, { type: 'UpdateStatus' }> => w.type === 'UpdateStatus')?.object.status as MachineSet['status'];

describe('scale up', () => {
  it('creates the missing machines from the template: names, owner, labels, finalizer, spec', () => {
    // Prepare
    const ms = { ...machineSet({ replicas: 2, version: 'v1.31.2' }), metadata: { ...machineSet().metadata, labels: { [Labels.deploymentName]: 'md' } } };
    // Act
    const plan = planMachineSet(input(ms, []));
    // Assess
    const machines = created(plan.writes);
    expect(machines).toHaveLength(2);
    for (const m of machines) {
      expect(m.metadata.name).toMatch(/^ms1-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(m.metadata.ownerReferences).toEqual([
        { apiVersion: 'clusterless.dev/v1alpha1', kind: 'MachineSet', name: 'ms1', uid: 'ms1-uid', controller: true, blockOwnerDeletion: true },
      ]);
      expect(m.metadata.labels).toMatchObject({ [Labels.clusterName]: 'c1', [Labels.setName]: 'ms1', [Labels.deploymentName]: 'md' });
      expect(m.metadata.finalizers).toEqual(['clusterless.dev/machine']);
      expect(m.spec).toEqual({ clusterName: 'c1', version: 'v1.31.2', machineClassRef: { name: 'small' }, nodeDrainTimeoutSeconds: 300 });
    }
    expect(new Set(machines.map((m) => m.metadata.name)).size).toBe(2);
  });

  it('names are reproducible from the inputs, skip names in use, and do not come back later', () => {
    // Prepare
    const ms = machineSet({ replicas: 3 });
    const first = created(planMachineSet(input(ms, [])).writes).map((m) => m.metadata.name);
    const squatter = machine(first[0]!, { labels: { other: 'x' } });
    // Act
    const again = created(planMachineSet(input(ms, [])).writes).map((m) => m.metadata.name);
    const around = created(planMachineSet(input(ms, [squatter])).writes).map((m) => m.metadata.name);
    const later = created(planMachineSet(input(ms, [], { now: at(60) })).writes).map((m) => m.metadata.name);
    // Assess
    expect(again).toEqual(first);
    expect(around).not.toContain(first[0]);
    expect(around.slice(0, 2)).toEqual(first.slice(1));
    expect(later.filter((n) => first.includes(n))).toEqual([]);
  });

  it('creates at most 100 machines in one pass, and asks for the next pass at once for the rest', () => {
    // Prepare
    const ms = machineSet({ replicas: 100_000 });
    // Act
    const plan = planMachineSet(input(ms, []));
    // Assess
    const machines = created(plan.writes);
    expect(machines).toHaveLength(MAX_MACHINE_CREATES_PER_PASS);
    expect(MAX_MACHINE_CREATES_PER_PASS).toBe(100);
    expect(new Set(machines.map((m) => m.metadata.name)).size).toBe(100);
    expect(plan.requeueAfterSeconds).toBe(0);
    expect(plan.notes).toContain('MachineSet ms1: 99900 more machine(s) to create in the next pass (at most 100 per pass)');
    // Status tells the truth: none of them exists yet.
    expect(statusOf(plan.writes)).toMatchObject({ replicas: 0 });
  });

  it("creates only what is left of the pass's budget, and nothing once it is spent", () => {
    // Prepare
    const ms = machineSet({ replicas: 5 });
    // Act
    const some = planMachineSet(input(ms, [], { createBudget: 2 }));
    const none = planMachineSet(input(ms, [], { createBudget: 0 }));
    const enough = planMachineSet(input(ms, [], { createBudget: 5 }));
    // Assess
    expect([created(some.writes).length, some.requeueAfterSeconds]).toEqual([2, 0]);
    expect([created(none.writes).length, none.requeueAfterSeconds]).toEqual([0, 0]);
    expect([created(enough.writes).length, enough.requeueAfterSeconds]).toEqual([5, undefined]);
  });

  it('spreads new machines over the failure domains, fewest first', () => {
    // Prepare
    const ms = machineSet({ replicas: 5 });
    const existing = [machine('a1', { owner: ms, failureDomain: 'a' }), machine('a2', { owner: ms, failureDomain: 'a' })];
    // Act
    const plan = planMachineSet(input(ms, existing, { cluster: cluster({ failureDomains: ['a', 'b', 'c'] }) }));
    // Assess
    // Spread zones are preferences (the provider may fall back on capacity), not pins.
    expect(created(plan.writes).map((m) => m.metadata.annotations?.['clusterless.dev/preferred-failure-domain'])).toEqual(['b', 'c', 'b']);
    expect(created(plan.writes).map((m) => m.spec.failureDomain)).toEqual([undefined, undefined, undefined]);
  });

  it('pins machines to the template failure domain', () => {
    // Act
    const plan = planMachineSet(input(machineSet({ replicas: 2, failureDomain: 'b' }), [], { cluster: cluster({ failureDomains: ['a', 'b'] }) }));
    // Assess
    expect(created(plan.writes).map((m) => m.spec.failureDomain)).toEqual(['b', 'b']);
    expect(created(plan.writes).map((m) => m.metadata.annotations?.['clusterless.dev/preferred-failure-domain'])).toEqual([undefined, undefined]);
  });

  it('waits for a deleting machine to be gone before replacing it (deleting machines still count)', () => {
    // Prepare
    const ms = machineSet({ replicas: 3 });
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms }), machine('m3', { owner: ms, deleting: true })];
    // Act
    const plan = planMachineSet(input(ms, machines));
    // Assess
    expect(created(plan.writes)).toEqual([]);
    expect(deleted(plan.writes)).toEqual([]);
  });

  it.each([
    {
      name: 'the MachineClass does not exist',
      extra: { machineClass: undefined },
      message: 'Scaling up from 0 to 2 replicas is blocked because MachineClass small does not exist',
      failure: undefined,
    },
    {
      name: 'the pinned failure domain is not allowed',
      extra: { cluster: cluster({ failureDomains: ['a'] }) },
      ms: machineSet({ replicas: 2, failureDomain: 'z' }),
      message: 'Scaling up from 0 to 2 replicas is blocked because failure domain z is not one of the allowed failure domains (a)',
      failure: 'InvalidFailureDomain',
    },
  ])('creates nothing when $name, and says why', ({ extra, ms, message, failure }) => {
    // Act
    const plan = planMachineSet(input(ms ?? machineSet({ replicas: 2 }), [], extra));
    // Assess
    expect(created(plan.writes)).toEqual([]);
    const status = statusOf(plan.writes)!;
    expect(status.conditions?.find((c) => c.type === 'ScalingUp')).toMatchObject({ status: 'True', reason: 'ScalingUp', message });
    expect(status.failureReason).toBe(failure);
  });
});

describe('scale down', () => {
  it('deletes the surplus in deletion order: unhealthy first', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms }), machine('m3', { owner: ms }), machine('m4', { owner: ms })];
    const nodes = [node('m1-node'), node('m2-node', { ready: 'False' }), node('m3-node'), node('m4-node')];
    // Act
    const plan = planMachineSet(input(ms, machines, { observed: { instances: [], nodes } }));
    // Assess
    const gone = deleted(plan.writes);
    expect(gone).toHaveLength(2);
    expect(gone[0]).toBe('m2');
    expect(plan.writes.find((w) => w.type === 'Delete')).toMatchObject({ reason: 'scale down of MachineSet ms1 from 4 to 2 replicas (deletePolicy Random)' });
  });

  it('keeps the machine whose node is Ready now over one whose node is NotReady, whatever its stale NodeHealthy says', () => {
    // Prepare: the soak's scale-down from 3 to 1 (seed 1): m1's NodeHealthy False was recorded while its node
    // booted; its node is Ready now, m2's is NotReady, m3 has no node yet.
    // Oldest first, and m1 is the oldest: only its health can keep it.
    const ms = machineSet({ replicas: 1, deletePolicy: 'Oldest' });
    const stale = [{ type: 'NodeHealthy', status: 'False' as const, lastTransitionTime: daysAgo(1), reason: 'NodeNotHealthy' }];
    const machines = [
      machine('m1', { owner: ms, conditions: stale, created: daysAgo(3) }),
      machine('m2', { owner: ms, created: daysAgo(2) }),
      machine('m3', { owner: ms, node: undefined, created: daysAgo(1) }),
    ];
    const nodes = [node('m1-node'), node('m2-node', { ready: 'False' })];
    // Act
    const plan = planMachineSet(input(ms, machines, { observed: { instances: [], nodes } }));
    // Assess
    expect(deleted(plan.writes).sort()).toEqual(['m2', 'm3']);
  });

  it('counts machines already deleting as gone: no further deletion', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms }), machine('m3', { owner: ms, deleting: true })];
    // Act
    const plan = planMachineSet(input(ms, machines));
    // Assess
    expect(deleted(plan.writes)).toEqual([]);
  });

  it('honours the delete-machine annotation', () => {
    // Prepare
    const ms = machineSet({ replicas: 2, deletePolicy: 'Oldest' });
    const machines = [
      machine('m1', { owner: ms }),
      machine('m2', { owner: ms }),
      machine('m3', { owner: ms, created: at(-60).toISOString(), annotations: { 'clusterless.dev/delete-machine': '' } }),
    ];
    // Act
    const plan = planMachineSet(input(ms, machines));
    // Assess
    expect(deleted(plan.writes)).toEqual(['m3']);
  });
});

describe('ownership', () => {
  it('adopts an orphan that matches the selector and counts it', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    const mine = machine('m1', { owner: ms });
    const orphan = machine('orphan', { labels: { ...ms.spec.template.metadata.labels } });
    // Act
    const plan = planMachineSet(input(ms, [mine, orphan]));
    // Assess
    expect(updated(plan.writes).map((m) => [m.metadata.name, m.metadata.ownerReferences?.[0]?.uid])).toEqual([['orphan', 'ms1-uid']]);
    expect(created(plan.writes)).toEqual([]);
  });

  it('does not adopt a deleting orphan, nor one of another cluster', () => {
    // Prepare
    const ms = machineSet({ replicas: 0 });
    const deleting = machine('gone', { labels: { ...ms.spec.template.metadata.labels }, deleting: true });
    const foreign = { ...machine('foreign', { labels: { ...ms.spec.template.metadata.labels } }), spec: { ...machine('x').spec, clusterName: 'c2' } };
    // Act
    const plan = planMachineSet(input(ms, [deleting, foreign]));
    // Assess
    expect(updated(plan.writes)).toEqual([]);
  });

  it('releases an owned machine whose labels no longer match, and replaces it', () => {
    // Prepare
    const ms = machineSet({ replicas: 1 });
    const relabelled = machine('m1', { owner: ms, labels: { [Labels.clusterName]: 'c1' } });
    // Act
    const plan = planMachineSet(input(ms, [relabelled]));
    // Assess
    const released = updated(plan.writes);
    expect(released.map((m) => m.metadata.name)).toEqual(['m1']);
    expect(released[0]!.metadata.ownerReferences).toBeUndefined();
    expect(created(plan.writes)).toHaveLength(1);
  });
});

describe('deletion of the MachineSet', () => {
  it('deletes every machine, then lets the MachineSet go', () => {
    // Prepare
    const ms = machineSet({ replicas: 2, deleting: true });
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms, deleting: true })];
    // Act
    const busy = planMachineSet(input(ms, machines));
    const empty = planMachineSet(input(ms, []));
    // Assess
    expect(deleted(busy.writes)).toEqual(['m1']);
    expect(busy.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
    expect(empty.writes).toContainEqual({
      type: 'RemoveFinalizer',
      ref: { kind: 'MachineSet', namespace: 'default', name: 'ms1', uid: 'ms1-uid' },
      finalizer: 'clusterless.dev/machine-set',
    });
    expect(busy.notes).toContain('MachineSet ms1: deleting, waiting for 2 machine(s) to go; deleting m1');
    expect(planMachineSet(input(ms, [machines[1]!])).notes).toContain('MachineSet ms1: deleting, waiting for 1 machine(s) to go');
  });

  it('plans no machine for a MachineSet not stored yet (no uid): its deployment creates it first', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    delete ms.metadata.uid;
    // Act
    const plan = planMachineSet(input(ms, []));
    // Assess
    expect([plan.writes, plan.actions]).toEqual([[], []]);
    expect(plan.notes).toEqual(['MachineSet ms1: not created yet, its machines are planned once it exists']);
  });
});

describe('pause', () => {
  it.each([
    { name: 'a paused cluster', ms: machineSet({ replicas: 3 }), c: cluster({ paused: true }), message: 'Cluster spec.paused is set to true' },
    {
      name: 'the paused annotation',
      ms: machineSet({ replicas: 3, paused: true }),
      c: cluster(),
      message: 'MachineSet has the clusterless.dev/paused annotation',
    },
  ])('$name: no action, only the Paused condition', ({ ms, c, message }) => {
    // Act
    const plan = planMachineSet(input(ms, [], { cluster: c }));
    // Assess
    expect(plan.writes.map((w) => w.type)).toEqual(['UpdateStatus']);
    expect(statusOf(plan.writes)!.conditions).toEqual([
      { type: 'Paused', status: 'True', reason: 'Paused', message, lastTransitionTime: '2026-03-01T12:00:00Z', observedGeneration: 1 },
    ]);
  });
});

describe('status', () => {
  it('counts replicas, ready and available (minReadySeconds), and asks to look again when one becomes available', () => {
    // Prepare
    const ms = machineSet({ replicas: 3, minReadySeconds: 60 });
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms }), machine('m3', { owner: ms, node: undefined })];
    const nodes = [node('m1-node'), node('m2-node', { since: at(-45) })];
    // Act
    const plan = planMachineSet(input(ms, machines, { observed: { instances: [], nodes } }));
    // Assess
    expect(plan.status).toMatchObject({
      replicas: 3,
      fullyLabeledReplicas: 3,
      readyReplicas: 2,
      availableReplicas: 1,
      observedGeneration: 1,
      selector: `${Labels.clusterName}=c1,${Labels.setName}=ms1`,
    });
    expect(plan.requeueAfterSeconds).toBe(15);
    expect(plan.status?.conditions?.find((c) => c.type === 'MachinesReady')).toMatchObject({
      status: 'False',
      reason: 'NotReady',
      message: '* Machine m3: NoNode',
    });
  });

  it.each([
    {
      name: 'scaling up',
      replicas: 3,
      have: 1,
      up: { status: 'True', message: 'Scaling up from 1 to 3 replicas' },
      down: { status: 'False', reason: 'NotScalingDown' },
    },
    {
      name: 'scaling down',
      replicas: 1,
      have: 3,
      up: { status: 'False', reason: 'NotScalingUp' },
      down: { status: 'True', message: 'Scaling down from 3 to 1 replicas' },
    },
    { name: 'steady', replicas: 2, have: 2, up: { status: 'False' }, down: { status: 'False' } },
  ])('ScalingUp and ScalingDown when $name', ({ replicas, have, up, down }) => {
    // Prepare
    const ms = machineSet({ replicas });
    const machines = Array.from({ length: have }, (_, i) => machine(`m${i}`, { owner: ms }));
    // Act
    const plan = planMachineSet(input(ms, machines));
    // Assess
    expect(plan.status?.conditions?.find((c) => c.type === 'ScalingUp')).toMatchObject(up);
    expect(plan.status?.conditions?.find((c) => c.type === 'ScalingDown')).toMatchObject(down);
  });

  it('writes nothing when nothing changed (a second plan on the written status is empty)', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    const machines = [machine('m1', { owner: ms }), machine('m2', { owner: ms })];
    const first = planMachineSet(input(ms, machines));
    // Act
    const second = planMachineSet(input({ ...ms, status: first.status }, machines, { now: at(600) }));
    // Assess
    expect(first.writes.map((w) => w.type)).toEqual(['UpdateStatus']);
    expect(second.writes).toEqual([]);
  });
});

describe('notes and edges', () => {
  it('a paused MachineSet writes its Paused condition once and says why it is paused', () => {
    // Prepare
    const ms = machineSet({ replicas: 3 });
    const first = planMachineSet(input(ms, [], { cluster: cluster({ paused: true }) }));
    // Act
    const second = planMachineSet(input({ ...ms, status: statusOf(first.writes) }, [], { cluster: cluster({ paused: true }) }));
    // Assess
    expect(first.notes).toEqual(['MachineSet ms1: reconciliation paused (Cluster spec.paused is set to true)']);
    expect(planMachineSet(input(machineSet({ replicas: 3, paused: true }), [], { cluster: cluster({ paused: true }) })).notes).toEqual([
      'MachineSet ms1: reconciliation paused (Cluster spec.paused is set to true, MachineSet has the clusterless.dev/paused annotation)',
    ]);
    expect(second.writes).toEqual([]);
  });

  it('says which machines it adopts and releases', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    const relabelled = machine('m1', { owner: ms, labels: { [Labels.clusterName]: 'c1' } });
    const orphan = machine('orphan', { labels: { ...ms.spec.template.metadata.labels } });
    // Act
    const plan = planMachineSet(input(ms, [relabelled, orphan]));
    // Assess
    expect(plan.notes).toContain('MachineSet ms1: releasing machine m1, its labels no longer match the selector');
    expect(plan.notes).toContain('MachineSet ms1: adopting machine orphan');
  });

  it('keeps a deleting machine whose labels no longer match: it is going anyway, and still counts', () => {
    // Prepare
    const ms = machineSet({ replicas: 1 });
    const going = machine('m1', { owner: ms, labels: { [Labels.clusterName]: 'c1' }, deleting: true });
    // Act
    const plan = planMachineSet(input(ms, [going]));
    // Assess
    expect([updated(plan.writes), created(plan.writes)]).toEqual([[], []]);
  });

  it.each([
    {
      name: 'whose labels do not match the selector',
      orphan: (labels: Record<string, string>) => machine('orphan', { labels: { ...labels, [Labels.setName]: 'other' } }),
    },
    {
      name: 'of another namespace',
      orphan: (labels: Record<string, string>) => {
        const m = machine('orphan', { labels });
        return { ...m, metadata: { ...m.metadata, namespace: 'other' } };
      },
    },
  ])('does not adopt an orphan $name', ({ orphan }) => {
    // Prepare
    const ms = machineSet({ replicas: 1 });
    // Act
    const plan = planMachineSet(input(ms, [orphan({ ...ms.spec.template.metadata.labels })]));
    // Assess
    expect(updated(plan.writes)).toEqual([]);
    expect(created(plan.writes)).toHaveLength(1);
  });

  it('a deleted MachineSet says why it deletes each machine, and says when none is left', () => {
    // Prepare
    const ms = machineSet({ replicas: 2, deleting: true });
    // Act
    const busy = planMachineSet(input(ms, [machine('m1', { owner: ms })]));
    const empty = planMachineSet(input(ms, []));
    // Assess
    expect(busy.writes.filter((w) => w.type === 'Delete').map((w) => (w as Extract<Write, { type: 'Delete' }>).reason)).toEqual([
      'MachineSet ms1 is being deleted',
    ]);
    expect(empty.notes).toEqual(['MachineSet ms1: deleted, no machines left']);
  });

  it('a deleted MachineSet without its finalizer has none to remove', () => {
    // Prepare
    const ms = machineSet({ replicas: 2, deleting: true });
    delete ms.metadata.finalizers;
    // Act
    const plan = planMachineSet(input(ms, []));
    // Assess
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
  });

  it('says how many machines it cannot create and why, only when some are missing', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    // Act
    const short = planMachineSet(input(ms, [], { machineClass: undefined }));
    const full = planMachineSet(input(ms, [machine('m1', { owner: ms }), machine('m2', { owner: ms })], { machineClass: undefined }));
    // Assess
    expect(short.notes).toContain('MachineSet ms1: cannot create 2 machine(s): MachineClass small does not exist');
    expect(full.notes.some((n) => n.includes('cannot create'))).toBe(false);
  });

  it('says which machines it creates, and in which failure domains when there are some', () => {
    // Prepare
    const ms = machineSet({ replicas: 2 });
    // Act
    const spread = planMachineSet(input(ms, [], { cluster: cluster({ failureDomains: ['a', 'b'] }) }));
    const plain = planMachineSet(input(ms, []));
    // Assess
    const names = (p: typeof plain) => created(p.writes).map((m) => m.metadata.name);
    expect(spread.notes).toEqual([`MachineSet ms1: scaling up from 0 to 2 replicas, creating ${names(spread).join(', ')} in a, b`]);
    expect(plain.notes).toEqual([`MachineSet ms1: scaling up from 0 to 2 replicas, creating ${names(plain).join(', ')}`]);
  });

  it('says nothing of scaling up when the pass has no create left', () => {
    // Act
    const plan = planMachineSet(input(machineSet({ replicas: 2 }), [], { createBudget: 0 }));
    // Assess
    expect(plan.notes.some((n) => n.includes('scaling up'))).toBe(false);
  });

  it('a deleting machine does not hold its failure domain: the replacement may go there', () => {
    // Prepare
    const ms = machineSet({ replicas: 3 });
    const existing = [machine('a1', { owner: ms, failureDomain: 'a' }), machine('b1', { owner: ms, failureDomain: 'b', deleting: true })];
    // Act
    const plan = planMachineSet(input(ms, existing, { cluster: cluster({ failureDomains: ['a', 'b', 'c'] }) }));
    // Assess
    expect(created(plan.writes).map((m) => m.metadata.annotations?.['clusterless.dev/preferred-failure-domain'])).toEqual(['b']);
  });

  it("a new machine carries the template's annotations, and no annotation, deployment label or failure domain it has no value for", () => {
    // Prepare
    const annotated = machineSet({ replicas: 1 });
    annotated.spec.template.metadata = { ...annotated.spec.template.metadata, annotations: { 'example.com/team': 'a' } };
    const bare = machineSet({ replicas: 1 });
    delete bare.metadata.labels;
    // Act
    const withAnnotations = created(planMachineSet(input(annotated, [])).writes)[0]!;
    const plain = created(planMachineSet(input(bare, [])).writes)[0]!;
    // Assess
    expect(withAnnotations.metadata.annotations).toEqual({ 'example.com/team': 'a', [ANNOTATIONS_FROM_TEMPLATE]: 'example.com/team' });
    expect(Object.keys(plain.metadata)).not.toContain('annotations');
    expect(Object.keys(plain.metadata.labels ?? {})).not.toContain(Labels.deploymentName);
    expect(Object.keys(plain.spec)).not.toContain('failureDomain');
  });
});
