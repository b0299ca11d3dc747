import { describe, expect, it } from 'vitest';
import { Finalizers } from '../../../../functions/api/common.js';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { type ConditionType, getCondition } from '../../../../functions/core/conditions.js';
import {
  machineInFailureDomainWithMostMachines,
  nextFailureDomainForScaleUp,
  nextMachineName,
  selectMachineForScaleDown,
} from '../../../../functions/core/controlplane/machines.js';
import { planControlPlane } from '../../../../functions/core/controlplane/planner.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { Annotations, Labels, T0, ZONES, cluster, controlPlane, cpMachine, iso, machine, objects, observedFor } from '../cluster/fixtures.js';

const created = (plan: Plan): Machine[] => plan.writes.flatMap((w) => (w.type === 'Create' ? [w.object as Machine] : []));
const deleted = (plan: Plan): string[] => plan.writes.flatMap((w) => (w.type === 'Delete' ? [w.ref.name] : []));
const statusOf = (plan: Plan): ControlPlane['status'] => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'ControlPlane');
  return w?.type === 'UpdateStatus' ? (w.object as ControlPlane).status : undefined;
};

function scene(machines: Machine[], cp = controlPlane(), nodeReady: Record<string, 'True' | 'False' | 'Unknown'> = {}) {
  return { o: objects({ controlPlane: cp, machines }), observed: observedFor(machines, nodeReady) };
}

describe('ControlPlane scale', () => {
  it('creates the first machine: labelled, owned, with the machine finalizer, in the first zone', () => {
    // Prepare
    const { o, observed } = scene([], controlPlane({}, { initialized: false }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    const [m] = created(plan);
    expect(created(plan)).toHaveLength(1);
    expect(m?.metadata).toMatchObject({
      labels: { [Labels.clusterName]: 'demo', [Labels.controlPlaneName]: 'cp', [Labels.controlPlane]: '' },
      finalizers: [Finalizers.machine],
      ownerReferences: [{ kind: 'ControlPlane', name: 'cp', uid: 'uid-cp', controller: true, blockOwnerDeletion: true }],
    });
    expect(m?.metadata.name).toMatch(/^cp-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(m?.spec).toMatchObject({ clusterName: 'demo', version: 'v1.31.0', machineClassRef: { name: 'small' } });
    // The zone is a preference the provider starts with, not a pin (a zone out of capacity must not block the control plane).
    expect(m?.metadata.annotations?.[Annotations.preferredFailureDomain]).toBe('zone-a');
  });

  it('waits for the cluster infrastructure before creating anything', () => {
    // Prepare
    const o = objects({ cluster: cluster({ ready: false }), controlPlane: controlPlane({}, { initialized: false }) });
    // Act
    const plan = planControlPlane(o, { instances: [], nodes: [] }, T0);
    // Assess
    expect(created(plan)).toEqual([]);
  });

  it('waits for a cluster that has not reported its infrastructure yet', () => {
    // Prepare
    const c = cluster();
    delete c.status;
    const o = objects({ cluster: c, controlPlane: controlPlane({}, { initialized: false }) });
    // Act
    const plan = planControlPlane(o, { instances: [], nodes: [] }, T0);
    // Assess
    expect(created(plan)).toEqual([]);
    expect(plan.notes).toEqual(['ControlPlane cp: waiting for the cluster infrastructure to be ready']);
  });

  it.each([
    {
      name: 'a machine still without a node',
      machines: () => [cpMachine('a', { failureDomain: 'zone-a', node: false })],
      ready: {} as Record<string, 'False'>,
      message: 'Scaling up from 1 to 3 replicas; scaling up from 1 to 3 waits: Machine a does not have a Node yet',
      requeue: 15,
    },
    {
      name: 'a machine whose node is not Ready',
      machines: () => [cpMachine('a', { failureDomain: 'zone-a' })],
      ready: { a: 'False' as const },
      message: 'Scaling up from 1 to 3 replicas; scaling up from 1 to 3 waits: Machine a reports its Node is not Ready',
      requeue: 15,
    },
    {
      name: 'a machine being deleted',
      machines: () => [cpMachine('a', { failureDomain: 'zone-a' }), cpMachine('b', { failureDomain: 'zone-b', deleting: true })],
      ready: {},
      message: 'Scaling up from 2 to 3 replicas; scaling up from 2 to 3 waits: Waiting for machines to be deleted: b',
      requeue: 10,
    },
  ])('does not scale up while there is $name (one operation at a time), and says why in ScalingUp', ({ machines, ready, message, requeue }) => {
    // Prepare
    const { o, observed } = scene(machines(), controlPlane(), ready);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess: Cluster API's preflightFailedRequeueAfter (15 s), or deleteRequeueAfter (10 s) while a machine goes.
    expect(created(plan)).toEqual([]);
    expect(plan.requeueAfterSeconds).toBe(requeue);
    expect(getCondition(statusOf(plan)?.conditions, 'ScalingUp')).toMatchObject({ status: 'True', reason: 'ScalingUp', message });
  });

  it('does not scale up while the workload cluster cannot be read', () => {
    // Prepare
    const { o } = scene([cpMachine('a', { failureDomain: 'zone-a' })], controlPlane());
    // Act
    const plan = planControlPlane(o, { instances: observedFor(o.machines).instances }, T0);
    // Assess
    expect(created(plan)).toEqual([]);
    expect(getCondition(statusOf(plan)?.conditions, 'ScalingUp')?.message).toBe(
      'Scaling up from 1 to 3 replicas; scaling up from 1 to 3 waits: The workload cluster could not be read',
    );
  });

  it('scales up one machine at a time, into the zone with the fewest machines', () => {
    // Prepare
    const { o, observed } = scene([cpMachine('a', { failureDomain: 'zone-a' })]);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(created(plan).map((m) => m.metadata.annotations?.[Annotations.preferredFailureDomain])).toEqual(['zone-b']);
  });

  it('scales down from the zone with the most machines, oldest first', () => {
    // Prepare
    const machines = [
      cpMachine('a1', { failureDomain: 'zone-a', age: 500 }),
      cpMachine('b1', { failureDomain: 'zone-b', age: 900 }),
      cpMachine('b2', { failureDomain: 'zone-b', age: 800 }),
      cpMachine('c1', { failureDomain: 'zone-c', age: 1000 }),
      cpMachine('c2', { failureDomain: 'zone-c', age: 700 }),
    ];
    const { o, observed } = scene(machines, controlPlane({ replicas: 3 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess: zones b and c tie with two machines each; the tie goes to the first by name, and b1 is its oldest.
    expect(deleted(plan)).toEqual(['b1']);
  });

  it('scales down a machine with the delete-machine annotation first', () => {
    // Prepare
    const machines = [
      cpMachine('a1', { failureDomain: 'zone-a' }),
      cpMachine('b1', { failureDomain: 'zone-b' }),
      cpMachine('c1', { failureDomain: 'zone-c', annotations: { [Annotations.deleteMachine]: '' }, age: 10 }),
      cpMachine('c2', { failureDomain: 'zone-c' }),
      cpMachine('a2', { failureDomain: 'zone-a' }),
    ];
    const { o, observed } = scene(machines, controlPlane({ replicas: 3 }));
    // Act & Assess
    expect(deleted(planControlPlane(o, observed, T0))).toEqual(['c1']);
  });

  it('does not scale down while the other machines are not all Ready', () => {
    // Prepare
    const machines = ['a', 'b', 'c', 'd', 'e'].map((n, i) => cpMachine(n, { failureDomain: ZONES[i % 3]!, age: 1000 - i }));
    const { o, observed } = scene(machines, controlPlane({ replicas: 3 }), { b: 'False' });
    // Act & Assess
    expect(deleted(planControlPlane(o, observed, T0))).toEqual([]);
  });

  it('aims at an odd count even if spec.replicas were even', () => {
    // Prepare
    const cp = controlPlane();
    cp.spec.replicas = 2;
    const { o, observed } = scene([cpMachine('a', { failureDomain: 'zone-a' }), cpMachine('b', { failureDomain: 'zone-b' })], cp);
    // Act & Assess
    expect(created(planControlPlane(o, observed, T0))).toHaveLength(1);
  });
});

describe('ControlPlane rolling upgrade', () => {
  const old = () => [
    cpMachine('a', { failureDomain: 'zone-a', version: 'v1.30.0', age: 3000 }),
    cpMachine('b', { failureDomain: 'zone-b', version: 'v1.30.0', age: 2000 }),
    cpMachine('c', { failureDomain: 'zone-c', version: 'v1.30.0', age: 1000 }),
  ];

  it('maxSurge 1 adds an up-to-date machine first', () => {
    // Prepare
    const { o, observed } = scene(old());
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(created(plan).map((m) => m.spec.version)).toEqual(['v1.31.0']);
    expect(deleted(plan)).toEqual([]);
    expect(getCondition(statusOf(plan)?.conditions, 'RollingOut')).toMatchObject({ status: 'True', reason: 'RollingOut' });
  });

  it('maxSurge 1 then removes the oldest outdated machine of the fullest zone once the new one is Ready', () => {
    // Prepare
    const { o, observed } = scene([...old(), cpMachine('n', { failureDomain: 'zone-a', age: 100 })]);
    // Act & Assess
    expect(deleted(planControlPlane(o, observed, T0))).toEqual(['a']);
  });

  it('maxSurge 1 waits while the new machine has no Ready node', () => {
    // Prepare
    const { o, observed } = scene([...old(), cpMachine('n', { failureDomain: 'zone-a', age: 100, node: false })]);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(deleted(plan)).toEqual([]);
    expect(created(plan)).toEqual([]);
  });

  it('maxSurge 0 removes an outdated machine first, when the two that stay are healthy', () => {
    // Prepare
    const { o, observed } = scene(old(), controlPlane({ rollout: { maxSurge: 0 } }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(deleted(plan)).toEqual(['a']);
    expect(created(plan)).toEqual([]);
  });

  it('maxSurge 0 removes the outdated machine whose node is not Ready first', () => {
    // Prepare
    const { o, observed } = scene(old(), controlPlane({ rollout: { maxSurge: 0 } }), { c: 'False' });
    // Act & Assess
    expect(deleted(planControlPlane(o, observed, T0))).toEqual(['c']);
  });

  it('maxSurge 0 never removes when that would lose etcd quorum', () => {
    // Prepare
    const { o, observed } = scene(old(), controlPlane({ rollout: { maxSurge: 0 } }), { b: 'False', c: 'False' });
    // Act & Assess: whichever goes, one healthy member of two would be left.
    expect(deleted(planControlPlane(o, observed, T0))).toEqual([]);
  });

  it('maxSurge 0 on a single machine surges instead (removing first would empty etcd)', () => {
    // Prepare: the API refuses this since Cluster API's webhook does; an object stored before that rule still plans safely.
    const cp = controlPlane({ replicas: 1 });
    cp.spec.rollout.maxSurge = 0;
    const { o, observed } = scene([cpMachine('a', { version: 'v1.30.0', failureDomain: 'zone-a' })], cp);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(created(plan)).toHaveLength(1);
    expect(plan.notes[0]).toContain('maxSurge 0 needs at least 3 replicas');
  });
});

describe('ControlPlane taints', () => {
  const gpu = { key: 'example.com/dedicated', value: 'control', effect: 'NoSchedule' as const };
  const current = () => [
    cpMachine('a', { failureDomain: 'zone-a', age: 3000 }),
    cpMachine('b', { failureDomain: 'zone-b', age: 2000 }),
    cpMachine('c', { failureDomain: 'zone-c', age: 1000 }),
  ];

  it('a change of taints rolls the control plane: the new machine carries them, the old ones read outdated with the reason', () => {
    // Prepare
    const { o, observed } = scene(current(), controlPlane({ taints: [gpu] }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(created(plan).map((m) => m.spec.taints)).toEqual([[gpu]]);
    expect(getCondition(statusOf(plan)?.conditions, 'RollingOut')).toMatchObject({ status: 'True' });
    expect(getCondition(statusOf(plan)?.conditions, 'MachinesUpToDate')?.message).toContain('* Machine a: taints changed');
  });

  it('machines with the taints are up to date, and no taints equals an empty list', () => {
    // Prepare
    const tainted = current().map((m) => ({ ...m, spec: { ...m.spec, taints: [gpu] } }));
    // Act
    const same = planControlPlane(scene(tainted, controlPlane({ taints: [gpu] })).o, scene(tainted).observed, T0);
    const empty = planControlPlane(scene(current(), controlPlane({ taints: [] })).o, scene(current()).observed, T0);
    // Assess
    for (const plan of [same, empty]) {
      expect(created(plan)).toEqual([]);
      expect(getCondition(statusOf(plan)?.conditions, 'RollingOut')).toMatchObject({ status: 'False' });
    }
  });
});

describe('ControlPlane status', () => {
  it('counts replicas, reports the lowest version, the selector and the conditions', () => {
    // Prepare
    const machines = [
      cpMachine('a', { version: 'v1.30.0', failureDomain: 'zone-a' }),
      cpMachine('b', { failureDomain: 'zone-b' }),
      cpMachine('c', { failureDomain: 'zone-c', node: false }),
    ];
    const { o, observed } = scene(machines);
    // Act
    const status = statusOf(planControlPlane(o, observed, T0));
    // Assess
    expect(status).toMatchObject({
      replicas: 3,
      readyReplicas: 2,
      updatedReplicas: 2,
      unavailableReplicas: 1,
      version: 'v1.30.0',
      initialized: true,
      ready: true,
      selector: 'clusterless.dev/cluster-name=demo,clusterless.dev/control-plane-name=cp',
    });
    expect(getCondition(status?.conditions, 'Available')?.status).toBe('True');
    expect(getCondition(status?.conditions, 'MachinesReady')).toMatchObject({ status: 'False', message: '* Machine c: no Node yet' });
    expect(getCondition(status?.conditions, 'MachinesUpToDate')?.status).toBe('False');
  });

  it('is not Available when etcd lost its quorum', () => {
    // Prepare
    const machines = ['a', 'b', 'c'].map((n) => cpMachine(n));
    const { o, observed } = scene(machines, controlPlane(), { a: 'False', b: 'Unknown' });
    // Act
    const status = statusOf(planControlPlane(o, observed, T0));
    // Assess
    expect(getCondition(status?.conditions, 'Available')).toMatchObject({ status: 'False', message: 'etcd has 1 healthy member(s) of 3, quorum is 2' });
  });

  it('does nothing at all when paused', () => {
    // Prepare
    const o = objects({ cluster: cluster({ paused: true }), controlPlane: controlPlane() });
    // Act
    const plan = planControlPlane(o, { instances: [], nodes: [] }, T0);
    // Assess
    expect([plan.writes, plan.actions]).toEqual([[], []]);
  });
});

describe('ControlPlane status, every condition of Cluster API’s KubeadmControlPlane', () => {
  const conditionsOf = (plan: Plan) =>
    (statusOf(plan)?.conditions ?? []).map(({ type, status, reason, message }) => ({ type, status, reason, ...(message ? { message } : {}) }));

  it('of a steady control plane: counts, version, selector, and every condition True or at rest', () => {
    // Prepare
    const { o, observed } = scene([
      cpMachine('a', { failureDomain: 'zone-a' }),
      cpMachine('b', { failureDomain: 'zone-b' }),
      cpMachine('c', { failureDomain: 'zone-c' }),
    ]);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(statusOf(plan)).toMatchObject({
      initialized: true,
      ready: true,
      observedGeneration: 1,
      selector: 'clusterless.dev/cluster-name=demo,clusterless.dev/control-plane-name=cp',
      replicas: 3,
      readyReplicas: 3,
      updatedReplicas: 3,
      unavailableReplicas: 0,
      version: 'v1.31.0',
    });
    expect(conditionsOf(plan)).toEqual([
      { type: 'Available', status: 'True', reason: 'Available' },
      { type: 'Initialized', status: 'True', reason: 'Initialized' },
      { type: 'MachinesReady', status: 'True', reason: 'Ready' },
      { type: 'MachinesUpToDate', status: 'True', reason: 'UpToDate' },
      { type: 'Remediating', status: 'False', reason: 'NotRemediating' },
      { type: 'RollingOut', status: 'False', reason: 'NotRollingOut' },
      { type: 'ScalingDown', status: 'False', reason: 'NotScalingDown' },
      { type: 'ScalingUp', status: 'False', reason: 'NotScalingUp' },
      { type: 'Deleting', status: 'False', reason: 'NotDeleting' },
    ]);
  });

  it('of a rollout held up by sick machines: the lowest version, which machines are not ready or not up to date, and why the rollout waits', () => {
    // Prepare: a is outdated, b's node is NotReady, c has no node yet.
    const machines = [
      cpMachine('a', { failureDomain: 'zone-a', version: 'v1.30.0' }),
      cpMachine('b', { failureDomain: 'zone-b' }),
      cpMachine('c', { failureDomain: 'zone-c', node: false }),
    ];
    const { o, observed } = scene(machines, controlPlane(), { b: 'False' });
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(statusOf(plan)).toMatchObject({ replicas: 3, readyReplicas: 1, updatedReplicas: 2, unavailableReplicas: 2, version: 'v1.30.0' });
    expect(conditionsOf(plan)).toEqual([
      { type: 'Available', status: 'False', reason: 'NotAvailable', message: 'etcd has 1 healthy member(s) of 2, quorum is 2' },
      { type: 'Initialized', status: 'True', reason: 'Initialized' },
      { type: 'MachinesReady', status: 'False', reason: 'NotReady', message: '* Machine b: Node is not Ready\n* Machine c: no Node yet' },
      { type: 'MachinesUpToDate', status: 'False', reason: 'NotUpToDate', message: '* Machine a: version v1.30.0, v1.31.0 required' },
      { type: 'Remediating', status: 'False', reason: 'NotRemediating' },
      {
        type: 'RollingOut',
        status: 'True',
        reason: 'RollingOut',
        message:
          'Rolling out 1 not up-to-date replica(s); rolling out 1 outdated machine(s) to v1.31.0 waits: Machine b reports its Node is not Ready; Machine c does not have a Node yet',
      },
      { type: 'ScalingDown', status: 'False', reason: 'NotScalingDown' },
      { type: 'ScalingUp', status: 'False', reason: 'NotScalingUp' },
      { type: 'Deleting', status: 'False', reason: 'NotDeleting' },
    ]);
  });
});

describe('ControlPlane deletion', () => {
  const removesFinalizer = (plan: Plan) => plan.writes.some((w) => w.type === 'RemoveFinalizer');

  it('waits for the workers to be gone first, says which, and looks again', () => {
    // Prepare
    const o = objects({ controlPlane: controlPlane({}, { deleting: true }), machines: [cpMachine('a'), machine('w2'), machine('w1')] });
    // Act
    const plan = planControlPlane(o, observedFor(o.machines), T0);
    // Assess
    expect(deleted(plan)).toEqual([]);
    expect(plan.notes).toContain('ControlPlane cp: Waiting for worker machines to be deleted first: w1, w2');
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({
      status: 'True',
      reason: 'Deleting',
      message: 'Waiting for worker machines to be deleted first: w1, w2',
    });
    expect(plan.requeueAfterSeconds).toBe(10);
    expect(removesFinalizer(plan)).toBe(false);
  });

  it('then deletes every control-plane machine at once, and keeps its finalizer until they are gone', () => {
    // Prepare
    const o = objects({ controlPlane: controlPlane({}, { deleting: true }), machines: [cpMachine('a'), cpMachine('b'), cpMachine('c', { deleting: true })] });
    // Act
    const plan = planControlPlane(o, observedFor(o.machines), T0);
    // Assess
    expect(deleted(plan)).toEqual(['a', 'b']);
    expect(plan.writes[0]).toMatchObject({ type: 'UpdateStatus', object: { kind: 'ControlPlane' } });
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')?.message).toBe('Deleting 3 machine(s)');
    expect(removesFinalizer(plan)).toBe(false);
  });

  it('then removes its finalizer', () => {
    // Prepare
    const o = objects({ controlPlane: controlPlane({}, { deleting: true }) });
    // Act
    const plan = planControlPlane(o, { instances: [], nodes: [] }, T0);
    // Assess
    expect(plan.writes).toContainEqual({
      type: 'RemoveFinalizer',
      ref: expect.objectContaining({ kind: 'ControlPlane', name: 'cp' }),
      finalizer: Finalizers.controlPlane,
    });
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')?.message).toBe('Deletion completed');
  });

  it('removes no finalizer it does not hold', () => {
    // Prepare
    const cp = controlPlane({}, { deleting: true });
    cp.metadata.finalizers = ['someone-else'];
    // Act & Assess
    expect(removesFinalizer(planControlPlane(objects({ controlPlane: cp }), { instances: [], nodes: [] }, T0))).toBe(false);
  });
});

describe('control-plane machine choices', () => {
  const cp = controlPlane();
  it.each([
    {
      name: 'the zone with the fewest up-to-date machines',
      machines: () => [cpMachine('a', { failureDomain: 'zone-a' }), cpMachine('b', { failureDomain: 'zone-b' })],
      fd: 'zone-c',
    },
    {
      name: 'outdated machines do not count against a zone (the spread after the rollout matters)',
      machines: () => [
        cpMachine('a', { failureDomain: 'zone-a', version: 'v1.30.0' }),
        cpMachine('b', { failureDomain: 'zone-b' }),
        cpMachine('c', { failureDomain: 'zone-c' }),
      ],
      fd: 'zone-a',
    },
    {
      name: 'a tie on up-to-date machines goes to the zone with fewer machines overall',
      machines: () => [
        cpMachine('a', { failureDomain: 'zone-a', version: 'v1.30.0' }),
        cpMachine('c', { failureDomain: 'zone-c' }),
        cpMachine('b', { failureDomain: 'zone-b' }),
        cpMachine('b2', { failureDomain: 'zone-b', version: 'v1.30.0' }),
      ],
      fd: 'zone-a',
    },
  ])('scale up picks $name', ({ machines, fd }) => {
    // Act & Assess
    expect(nextFailureDomainForScaleUp(ZONES, machines(), cp)).toBe(fd);
  });

  it('scale down empties a zone that went away first', () => {
    // Prepare
    const ms = [
      cpMachine('a', { failureDomain: 'zone-a', age: 5000 }),
      cpMachine('gone', { failureDomain: 'zone-x', age: 10 }),
      cpMachine('a2', { failureDomain: 'zone-a', age: 4000 }),
    ];
    // Act & Assess
    expect(machineInFailureDomainWithMostMachines(ZONES, ms, ms)?.metadata.name).toBe('gone');
  });

  it('scale down prefers an outdated machine whose node is not Ready', () => {
    // Prepare
    const ms = [
      cpMachine('a', { failureDomain: 'zone-a', version: 'v1.30.0' }),
      cpMachine('b', { failureDomain: 'zone-b', version: 'v1.30.0' }),
      cpMachine('c', { failureDomain: 'zone-c' }),
    ];
    // Act & Assess
    expect(selectMachineForScaleDown(ZONES, ms, ms.slice(0, 2), (m) => m.metadata.name !== 'b')?.metadata.name).toBe('b');
  });

  it('names machines deterministically and never twice', () => {
    // Prepare
    const existing = [cpMachine('cp-aaaaa')];
    // Act
    const first = nextMachineName(cp, existing, T0);
    const again = nextMachineName(cp, existing, T0);
    const next = nextMachineName(cp, [...existing, cpMachine(first)], T0);
    // Assess
    expect(again).toBe(first);
    expect(next).not.toBe(first);
  });
});

// More of controlplane/kubeadm/reconcilers/kubeadmcontrolplane/status.go (updateStatus, setAvailableCondition,
// setInitializedCondition, setMachinesReadyCondition, setScalingDownCondition, setRemediatingCondition) and
// status_test.go.
describe('ControlPlane status in every state', () => {
  const conditionOf = (plan: Plan, type: ConditionType) => {
    const c = getCondition(statusOf(plan)?.conditions, type);
    return c && { status: c.status, reason: c.reason, ...(c.message ? { message: c.message } : {}) };
  };

  it('before any machine has a node: not initialized, not available, not ready, and says why', () => {
    // Prepare
    const { o, observed } = scene([cpMachine('a', { node: false })], controlPlane({}, { initialized: false }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(statusOf(plan)).toMatchObject({ initialized: false, ready: false });
    expect(conditionOf(plan, 'Available')).toEqual({ status: 'False', reason: 'NotAvailable', message: 'Control plane not yet initialized' });
    expect(conditionOf(plan, 'Initialized')).toEqual({
      status: 'False',
      reason: 'NotInitialized',
      message: 'Waiting for the first control plane machine to have a node',
    });
  });

  it('with no machine at all: MachinesReady says there are no replicas, ScalingUp from 0 without anything waiting', () => {
    // Prepare
    const { o, observed } = scene([], controlPlane({}, { initialized: false }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(conditionOf(plan, 'MachinesReady')).toEqual({ status: 'True', reason: 'NoReplicas' });
    expect(conditionOf(plan, 'ScalingUp')).toEqual({ status: 'True', reason: 'ScalingUp', message: 'Scaling up from 0 to 3 replicas' });
  });

  it('while the workload cluster cannot be read: Available is Unknown, not False', () => {
    // Prepare
    const machines = ['a', 'b', 'c'].map((n) => cpMachine(n));
    const o = objects({ controlPlane: controlPlane(), machines });
    // Act
    const plan = planControlPlane(o, { instances: observedFor(machines).instances }, T0);
    // Assess
    expect(conditionOf(plan, 'Available')).toEqual({ status: 'Unknown', reason: 'AvailableUnknown', message: 'The workload cluster could not be read' });
  });

  it('of an initialized control plane whose machines are all gone: not Available (no etcd member votes), not ready', () => {
    // Prepare
    const { o, observed } = scene([], controlPlane());
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(statusOf(plan)).toMatchObject({ initialized: true, ready: false });
    expect(conditionOf(plan, 'Available')).toMatchObject({ status: 'False', reason: 'NotAvailable' });
  });

  it('of an initialized control plane with no Ready node: not ready', () => {
    // Prepare
    const machines = ['a', 'b', 'c'].map((n) => cpMachine(n));
    const { o, observed } = scene(machines, controlPlane(), { a: 'False', b: 'False', c: 'False' });
    // Act & Assess
    expect(statusOf(planControlPlane(o, observed, T0))).toMatchObject({ initialized: true, ready: false, readyReplicas: 0 });
  });

  it('reports the lowest version whatever the order of the machines', () => {
    // Prepare
    const { o, observed } = scene([cpMachine('a'), cpMachine('b', { version: 'v1.29.5' }), cpMachine('c', { version: 'v1.30.0' })]);
    // Act & Assess
    expect(statusOf(planControlPlane(o, observed, T0))?.version).toBe('v1.29.5');
  });

  it('keeps the last reported version while no machine is left (status.go sets it only from a machine)', () => {
    // Prepare
    const cp = controlPlane();
    cp.status = { ...cp.status, version: 'v1.30.2' };
    const { o, observed } = scene([], cp);
    // Act & Assess
    expect(statusOf(planControlPlane(o, observed, T0))?.version).toBe('v1.30.2');
  });

  it('counts neither a deleting machine’s Ready node nor the deleting machine as up to date', () => {
    // Prepare
    const machines = [cpMachine('a'), cpMachine('b'), cpMachine('c'), cpMachine('d', { deleting: true })];
    const { o, observed } = scene(machines);
    // Act & Assess
    expect(statusOf(planControlPlane(o, observed, T0))).toMatchObject({ replicas: 4, readyReplicas: 3, updatedReplicas: 3, unavailableReplicas: 1 });
  });

  it('lists every outdated machine on its own line in MachinesUpToDate, with each of its reasons', () => {
    // Prepare
    const machines = [cpMachine('a', { version: 'v1.30.0', machineClass: 'old' }), cpMachine('b', { version: 'v1.30.0' }), cpMachine('c')];
    const { o, observed } = scene(machines);
    // Act & Assess: every reason of a machine on its line, separated by commas.
    expect(conditionOf(planControlPlane(o, observed, T0), 'MachinesUpToDate')).toEqual({
      status: 'False',
      reason: 'NotUpToDate',
      message: '* Machine a: version v1.30.0, v1.31.0 required, machine class old, small required\n* Machine b: version v1.30.0, v1.31.0 required',
    });
  });

  it('is ScalingDown with one machine more than desired', () => {
    // Prepare
    const machines = ['a', 'b', 'c', 'd'].map((n, i) => cpMachine(n, { failureDomain: ZONES[i % 3]! }));
    const { o, observed } = scene(machines);
    // Act & Assess
    expect(conditionOf(planControlPlane(o, observed, T0), 'ScalingDown')).toMatchObject({
      status: 'True',
      reason: 'ScalingDown',
      message: expect.stringMatching(/^Scaling down from 4 to 3 replicas/),
    });
  });

  it('is ScalingDown to 0 while deleting with machines left, and not once they are gone', () => {
    // Prepare
    const deleting = controlPlane({}, { deleting: true });
    const machines = ['a', 'b', 'c'].map((n) => cpMachine(n));
    // Act
    const withMachines = planControlPlane(objects({ controlPlane: deleting, machines }), observedFor(machines), T0);
    const empty = planControlPlane(objects({ controlPlane: deleting }), { instances: [], nodes: [] }, T0);
    // Assess
    expect(conditionOf(withMachines, 'ScalingDown')).toMatchObject({ status: 'True', message: expect.stringMatching(/^Scaling down from 3 to 0 replicas/) });
    expect(conditionOf(withMachines, 'ScalingUp')).toEqual({ status: 'False', reason: 'NotScalingUp' });
    expect(conditionOf(empty, 'ScalingDown')).toEqual({ status: 'False', reason: 'NotScalingDown' });
  });

  it('is Remediating while a remediation is in progress with no machine waiting for one', () => {
    // Prepare: a was remediated and is gone; its replacement is not made yet, nothing else is unhealthy.
    const cp = controlPlane({}, { lastRemediation: { machine: 'a', timestamp: iso(T0), retryCount: 0 } });
    const { o, observed } = scene([cpMachine('b', { failureDomain: 'zone-b' }), cpMachine('c', { failureDomain: 'zone-c' })], cp);
    // Act & Assess
    expect(conditionOf(planControlPlane(o, observed, T0), 'Remediating')).toEqual({
      status: 'True',
      reason: 'RemediationInProgress',
      message: 'A remediation is in progress',
    });
  });
});

describe('ControlPlane planner, more', () => {
  it('a paused control plane says so', () => {
    const o = objects({ cluster: cluster({ paused: true }), controlPlane: controlPlane() });
    expect(planControlPlane(o, { instances: [], nodes: [] }, T0).notes).toEqual(['ControlPlane cp: paused, nothing done']);
  });

  it('a settled control plane asks for no early look', () => {
    const machines = ['a', 'b', 'c'].map((n, i) => cpMachine(n, { failureDomain: ZONES[i]! }));
    const { o, observed } = scene(machines, controlPlane({ replicas: 3 }));
    expect(planControlPlane(o, observed, T0).requeueAfterSeconds).toBeUndefined();
  });

  it('deleting, says why it deletes each machine, and is not remediating', () => {
    // Prepare
    const o = objects({ controlPlane: controlPlane({}, { deleting: true }), machines: [cpMachine('a')] });
    // Act
    const plan = planControlPlane(o, observedFor(o.machines), T0);
    // Assess
    expect(plan.writes.flatMap((w) => (w.type === 'Delete' ? [w.reason] : []))).toEqual(['its ControlPlane is being deleted']);
    expect(getCondition(statusOf(plan)?.conditions, 'Remediating')).toMatchObject({ status: 'False', reason: 'NotRemediating' });
  });

  it('deleting, keeps its finalizer while workers are left, even with no control-plane machine left', () => {
    const o = objects({ controlPlane: controlPlane({}, { deleting: true }), machines: [machine('w1')] });
    expect(planControlPlane(o, observedFor(o.machines), T0).writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
  });
});

describe('ControlPlane scale, what it says', () => {
  it('waiting for the workload cluster to be read, it looks again after the preflight delay', () => {
    const { o } = scene([cpMachine('a', { failureDomain: 'zone-a' })], controlPlane());
    expect(planControlPlane(o, { instances: observedFor(o.machines).instances }, T0).requeueAfterSeconds).toBe(15);
  });

  it('names every machine it waits for, and every issue', () => {
    // Prepare: two machines being deleted; then two machines not Ready.
    const deletingTwo = scene(
      [
        cpMachine('a', { failureDomain: 'zone-a' }),
        cpMachine('b', { failureDomain: 'zone-b', deleting: true }),
        cpMachine('c', { failureDomain: 'zone-c', deleting: true }),
      ],
      controlPlane({ replicas: 5 }),
    );
    const twoNotReady = scene([cpMachine('a', { failureDomain: 'zone-a' }), cpMachine('b', { failureDomain: 'zone-b' })], controlPlane(), {
      a: 'False',
      b: 'False',
    });
    // Act
    const one = planControlPlane(deletingTwo.o, deletingTwo.observed, T0);
    const two = planControlPlane(twoNotReady.o, twoNotReady.observed, T0);
    // Assess
    expect(one.notes.join('\n')).toContain('Waiting for machines to be deleted: b, c');
    expect(two.notes.join('\n')).toContain('Machine a reports its Node is not Ready; Machine b reports its Node is not Ready');
  });

  it('creates a machine with no zone named when the cluster has no failure domains, and acts on nothing else', () => {
    // Prepare
    const o = objects({ cluster: cluster({ zones: [] }), controlPlane: controlPlane({}, { initialized: false }) });
    // Act
    const plan = planControlPlane(o, { instances: [], nodes: [] }, T0);
    // Assess
    const [m] = created(plan);
    expect(plan.notes).toContain(`ControlPlane cp: initializing the control plane: creating Machine ${m?.metadata.name}`);
    expect(plan.actions).toEqual([]);
  });

  it('does not scale down when the machines that stay would not keep etcd quorum, and says why', () => {
    // Prepare: four machines for three; the instances of b and c are gone (their etcd members count unhealthy),
    // their nodes not yet marked NotReady.
    const machines = ['a', 'b', 'c', 'd'].map((n, i) => cpMachine(n, { failureDomain: ZONES[i % 3]!, age: 1000 - i * 100 }));
    const { o, observed } = scene(machines, controlPlane({ replicas: 3 }));
    const instances = observed.instances.map((i) => (['i-b', 'i-c'].includes(i.instanceId) ? { ...i, state: 'terminated' as const } : i));
    // Act
    const plan = planControlPlane(o, { ...observed, instances }, T0);
    // Assess
    expect(deleted(plan)).toEqual([]);
    expect(plan.notes.join('\n')).toContain('would leave 1 healthy etcd member(s) of 3, quorum is 2');
    expect(plan.actions).toEqual([]);
  });
});

describe('ControlPlane steps write only what they change', () => {
  it('a settled control plane writes nothing; one that waits writes its status only', () => {
    // Prepare
    const machines = ['a', 'b', 'c'].map((n, i) => cpMachine(n, { failureDomain: ZONES[i]! }));
    const { o, observed } = scene(machines, controlPlane({ replicas: 3 }));
    const first = planControlPlane(o, observed, T0);
    const settled = { ...o, controlPlane: { ...o.controlPlane!, status: statusOf(first) } };
    const waiting = scene([cpMachine('a', { failureDomain: 'zone-a' })], controlPlane(), { a: 'False' });
    // Act & Assess
    expect(planControlPlane(settled, observed, T0).writes).toEqual([]);
    expect(planControlPlane(waiting.o, waiting.observed, T0).writes.map((w) => w.type)).toEqual(['UpdateStatus']);
  });
});

describe('ControlPlane in-place fields', () => {
  const updated = (plan: Plan) => plan.writes.flatMap((w) => (w.type === 'Update' && w.object.kind === 'Machine' ? [w.object as Machine] : []));

  it('puts a changed node drain timeout on every machine, a deleting one included, and rolls nothing (KubeadmControlPlane syncMachines)', () => {
    // Prepare: three up-to-date machines, one being deleted, all at the default drain timeout
    const machines = [
      cpMachine('a', { failureDomain: 'zone-a' }),
      cpMachine('b', { failureDomain: 'zone-b' }),
      cpMachine('c', { failureDomain: 'zone-c' }),
      cpMachine('d', { failureDomain: 'zone-a', deleting: true }),
    ];
    const { o, observed } = scene(machines, controlPlane({ replicas: 3, nodeDrainTimeoutSeconds: 900 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(updated(plan).map((m) => [m.metadata.name, m.spec.nodeDrainTimeoutSeconds])).toEqual([
      ['a', 900],
      ['b', 900],
      ['c', 900],
      ['d', 900],
    ]);
    expect(updated(plan).map((m) => m.spec.version)).toEqual(machines.map((m) => m.spec.version));
    expect(created(plan)).toEqual([]);
    expect(deleted(plan)).toEqual([]);
  });

  it('puts changed volume-detach and node-deletion timeouts on every machine, a deleting one included, and rolls nothing', () => {
    // Prepare
    const machines = [cpMachine('a', { failureDomain: 'zone-a' }), cpMachine('b', { failureDomain: 'zone-a', deleting: true })];
    const { o, observed } = scene(machines, controlPlane({ replicas: 1, nodeVolumeDetachTimeoutSeconds: 0, nodeDeletionTimeoutSeconds: 30 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(updated(plan).map((m) => [m.metadata.name, m.spec.nodeVolumeDetachTimeoutSeconds, m.spec.nodeDeletionTimeoutSeconds])).toEqual([
      ['a', 0, 30],
      ['b', 0, 30],
    ]);
    expect(created(plan)).toEqual([]);
  });

  it('writes nothing to machines that have the timeout already', () => {
    // Prepare
    const cp = controlPlane({ replicas: 1 });
    const { o, observed } = scene([cpMachine('a', { failureDomain: 'zone-a' })], cp);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(updated(plan)).toEqual([]);
  });
});
