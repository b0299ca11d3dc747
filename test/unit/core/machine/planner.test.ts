import { describe, expect, it } from 'vitest';
import { Annotations, Finalizers } from '../../../../functions/api/common.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import { planMachine, planMachines } from '../../../../functions/core/machine/planner.js';
import type { Observed } from '../../../../functions/core/observed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { T0, at, ago, cluster, condition, controlPlane, cpMachine, etcdMember, instance, iso, machine, node, objects } from '../cluster/fixtures.js';

const statusOf = (plan: Plan): Machine['status'] => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus');
  return w?.type === 'UpdateStatus' ? (w.object as Machine).status : undefined;
};

/** A machine as the API stores it before anything happened: no launch, no instance. */
const fresh = (name = 'm1', o: { controlPlane?: boolean } = {}) => machine(name, { launched: false, controlPlane: o.controlPlane ?? false });

describe('Machine phase', () => {
  // Cases of core/reconcilers/machine/machine_controller_phases_test.go, with the instance as the infrastructure.
  it.each([
    { name: 'Pending: no launch recorded, no instance', m: fresh(), observed: { instances: [], nodes: [] }, phase: 'Pending' },
    {
      name: 'Provisioning: the launch is recorded, no instance seen yet',
      m: { ...fresh(), status: { infrastructure: { clientToken: 't', launchRequestedAt: iso(T0) } } },
      observed: { instances: [], nodes: [] },
      phase: 'Provisioning',
    },
    {
      name: 'Provisioning: the instance is pending',
      m: machine('m1', { infrastructureReady: false, node: false }),
      observed: { instances: [instance(machine('m1'), 'pending')], nodes: [] },
      phase: 'Provisioning',
    },
    {
      name: 'Provisioned: the instance runs, no node yet',
      m: machine('m1', { infrastructureReady: false, node: false }),
      observed: { instances: [instance(machine('m1'))], nodes: [] },
      phase: 'Provisioned',
    },
    {
      name: 'Running: the node is found by providerID',
      m: machine('m1', { node: false }),
      observed: { instances: [instance(machine('m1'))], nodes: [node(machine('m1'))] },
      phase: 'Running',
    },
    {
      name: 'Running stays Running while the node is NotReady (Ready is a condition, not a phase)',
      m: machine('m1'),
      observed: { instances: [instance(machine('m1'))], nodes: [node(machine('m1'), 'False')] },
      phase: 'Running',
    },
    {
      name: 'Failed: the instance was terminated outside clusterless',
      m: machine('m1'),
      observed: { instances: [instance(machine('m1'), 'terminated')], nodes: [] },
      phase: 'Failed',
    },
    {
      name: 'Failed: the instance that ran is gone altogether',
      m: machine('m1'),
      observed: { instances: [], nodes: [] },
      phase: 'Failed',
    },
    {
      name: 'Failed stays Failed even when an instance shows up again',
      m: machine('m1', { failureReason: 'UpdateError' }),
      observed: { instances: [instance(machine('m1'))], nodes: [node(machine('m1'))] },
      phase: 'Failed',
    },
    {
      name: 'Deleting: deletionTimestamp set and the instance still runs',
      m: machine('m1', { deleting: true, conditions: [condition('DrainingSucceeded', 'True')] }),
      observed: { instances: [instance(machine('m1'))], nodes: [node(machine('m1'))] },
      phase: 'Deleting',
    },
    {
      name: 'Deleted: deleting and nothing left of the instance',
      m: machine('m1', { deleting: true }),
      observed: { instances: [instance(machine('m1'), 'terminated')], nodes: [] },
      phase: 'Deleted',
    },
  ])('$name', ({ m, observed, phase }) => {
    // Act
    const plan = planMachine(m as Machine, observed as Observed, T0, { cluster: cluster() });
    // Assess
    expect(statusOf(plan)?.phase).toBe(phase);
  });

  it('records failureReason and failureMessage for an instance terminated out of band', () => {
    // Prepare
    const m = machine('m1');
    // Act
    const status = statusOf(planMachine(m, { instances: [instance(m, 'terminated')], nodes: [] }, T0, { cluster: cluster() }));
    // Assess
    expect(status).toMatchObject({ failureReason: 'UpdateError', failureMessage: 'Instance i-m1 is terminated: it was stopped outside clusterless' });
  });

  it('does not fail a machine whose new instance is not visible yet', () => {
    // Prepare: launched (instanceId recorded) but never seen running.
    const m = machine('m1', { infrastructureReady: false, node: false });
    // Act
    const status = statusOf(planMachine(m, { instances: [], nodes: [] }, T0, { cluster: cluster() }));
    // Assess
    expect(status?.phase).toBe('Provisioning');
    expect(status?.failureReason).toBeUndefined();
  });
});

describe('Machine status from facts', () => {
  it('records the providerID first, alone, as a spec update', () => {
    // Prepare
    const m = { ...fresh(), status: { infrastructure: { clientToken: 't', launchRequestedAt: iso(T0) } } } as Machine;
    // Act
    const plan = planMachine(m, { instances: [instance(machine('m1'), 'pending')], nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.writes).toHaveLength(1);
    expect(plan.writes[0]).toMatchObject({ type: 'Update', object: { spec: { providerID: 'sim:///zone/m1' } } });
    expect(plan.actions).toEqual([]);
  });

  it("records the instance's id, state, type and zone in status.infrastructure", () => {
    // Prepare
    const m = machine('m1');
    const i = { ...instance(m), instanceType: 'm7g.large', availabilityZone: 'zone-b' };
    // Act
    const status = statusOf(planMachine(m, { instances: [i], nodes: [node(m)] }, T0, { cluster: cluster() }));
    // Assess
    expect(status?.infrastructure).toMatchObject({ instanceId: 'i-m1', state: 'running', instanceType: 'm7g.large', availabilityZone: 'zone-b' });
  });

  it('waits for the instance to report its providerID before looking for a Node', () => {
    // Act
    const status = statusOf(planMachine(fresh(), { instances: [], nodes: [] }, T0, { cluster: cluster() }));
    // Assess
    expect(getCondition(status?.conditions, 'NodeReady')).toMatchObject({ status: 'Unknown', message: 'Waiting for the instance to report its providerID' });
  });

  it('keeps a failure it read without a message, with an empty one', () => {
    // Prepare
    const m = machine('m1');
    m.status = { ...m.status, failureReason: 'CreateError' };
    delete m.status.failureMessage;
    // Act & Assess
    expect(statusOf(planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster() }))).toMatchObject({
      failureReason: 'CreateError',
      failureMessage: '',
    });
  });

  it('sets nodeRef, addresses and the node conditions, NodeReady keeping the node’s transition time', () => {
    // Prepare
    const m = machine('m1', { node: false });
    const n = node(m, 'True', at(-42));
    // Act
    const status = statusOf(planMachine(m, { instances: [instance(m)], nodes: [n] }, T0, { cluster: cluster() }));
    // Assess
    expect(status?.nodeRef).toEqual({ name: 'node-m1', uid: 'node-uid-m1' });
    expect(status?.addresses).toEqual([{ type: 'InternalIP', address: '10.0.0.1' }]);
    expect(getCondition(status?.conditions, 'NodeReady')).toMatchObject({ status: 'True', reason: 'NodeReady', lastTransitionTime: iso(at(-42)) });
    expect(getCondition(status?.conditions, 'NodeHealthy')).toMatchObject({ status: 'Unknown', reason: 'NodeHealthUnknown' });
    expect(getCondition(status?.conditions, 'InfrastructureReady')).toMatchObject({ status: 'True' });
  });

  it.each([
    {
      name: 'a healthy node makes the machine Ready',
      extra: [
        { type: 'MemoryPressure', status: 'False' as const, lastTransitionTime: iso(T0) },
        { type: 'DiskPressure', status: 'False' as const, lastTransitionTime: iso(T0) },
        { type: 'PIDPressure', status: 'False' as const, lastTransitionTime: iso(T0) },
      ],
      ready: 'True',
      healthy: { status: 'True', reason: 'NodeHealthy' },
    },
    {
      name: 'disk pressure makes the node not healthy and the machine not Ready',
      extra: [
        { type: 'MemoryPressure', status: 'False' as const, lastTransitionTime: iso(T0) },
        { type: 'DiskPressure', status: 'True' as const, lastTransitionTime: iso(T0), message: 'disk full' },
        { type: 'PIDPressure', status: 'False' as const, lastTransitionTime: iso(T0) },
      ],
      ready: 'False',
      healthy: { status: 'False', reason: 'NodeNotHealthy', message: '* Node.DiskPressure: disk full' },
    },
  ])('$name', ({ extra, ready, healthy }) => {
    // Prepare
    const m = machine('m1');
    // Act
    const status = statusOf(planMachine(m, { instances: [instance(m)], nodes: [node(m, 'True', at(-60), extra)] }, T0, { cluster: cluster() }));
    // Assess
    expect(getCondition(status?.conditions, 'NodeHealthy')).toMatchObject(healthy);
    expect(getCondition(status?.conditions, 'Ready')?.status).toBe(ready);
  });

  it('reports a node deleted while the machine still exists', () => {
    // Prepare
    const m = machine('m1');
    // Act
    const status = statusOf(planMachine(m, { instances: [instance(m)], nodes: [] }, T0, { cluster: cluster() }));
    // Assess
    expect(getCondition(status?.conditions, 'NodeHealthy')).toMatchObject({ status: 'False', reason: 'NodeDeleted' });
    expect(status?.nodeRef).toEqual({ name: 'node-m1' });
  });

  it('keeps the last known node conditions when the workload cluster cannot be read', () => {
    // Prepare
    const m = machine('m1', { conditions: [condition('NodeReady', 'True'), condition('NodeHealthy', 'True'), condition('InfrastructureReady', 'True')] });
    // Act
    const status = statusOf(planMachine(m, { instances: [instance(m)] }, T0, { cluster: cluster() }));
    // Assess
    expect(getCondition(status?.conditions, 'NodeReady')?.status).toBe('True');
    expect(getCondition(status?.conditions, 'NodeHealthy')?.status).toBe('True');
  });

  it('reaches a fixpoint: planning the written status again writes nothing', () => {
    // Prepare
    const m = machine('m1');
    const observed = { instances: [instance(m)], nodes: [node(m)] };
    const first = planMachine(m, observed, T0, { cluster: cluster() });
    // Act
    const second = planMachine({ ...m, status: statusOf(first) }, observed, at(30), { cluster: cluster() });
    // Assess
    expect(second.writes).toEqual([]);
  });
});

describe('LaunchInstance', () => {
  it.each([
    {
      name: 'a pending control-plane machine launches once the cluster infrastructure is ready',
      m: fresh('cp-1', { controlPlane: true }),
      c: cluster({ initialized: false }),
      launches: true,
    },
    { name: 'a pending worker launches once the control plane is initialized', m: fresh(), c: cluster(), launches: true },
    { name: 'a worker waits for the control plane to be initialized', m: fresh(), c: cluster({ initialized: false }), launches: false },
    {
      name: 'nothing launches before the cluster infrastructure is ready',
      m: fresh('cp-1', { controlPlane: true }),
      c: cluster({ ready: false }),
      launches: false,
    },
    {
      name: 'a provisioning machine is launched again (resumes a dead workflow; the action is idempotent)',
      m: { ...fresh(), status: { infrastructure: { clientToken: 't', launchRequestedAt: iso(T0) } } } as Machine,
      c: cluster(),
      launches: true,
    },
    { name: 'a running machine is not launched', m: machine('m1'), c: cluster(), launches: false },
    { name: 'a failed machine is not launched', m: machine('m1', { failureReason: 'CreateError', launched: false }), c: cluster(), launches: false },
  ])('$name', ({ m, c, launches }) => {
    // Prepare
    const observed = m.status?.nodeRef ? { instances: [instance(m)], nodes: [node(m)] } : { instances: [], nodes: [] };
    // Act
    const plan = planMachine(m, observed, T0, { cluster: c });
    // Assess
    expect(plan.actions.filter((a) => a.type === 'LaunchInstance')).toHaveLength(launches ? 1 : 0);
  });

  it.each([
    { name: 'its Cluster does not exist', c: undefined, note: 'Machine m1: waiting to launch: its Cluster does not exist' },
    { name: 'its Cluster is being deleted', c: cluster({ deleting: true }), note: 'Machine m1: waiting to launch: its Cluster is being deleted' },
    {
      name: 'the cluster infrastructure is not ready',
      c: cluster({ ready: false }),
      note: 'Machine m1: waiting to launch: cluster infrastructure is not ready',
    },
    {
      name: 'the control plane is not initialized',
      c: cluster({ initialized: false }),
      note: 'Machine m1: waiting to launch: the control plane is not initialized',
    },
  ])('a pending worker says why it waits to launch: $name', ({ c, note }) => {
    // Act
    const plan = planMachine(fresh(), { instances: [], nodes: [] }, T0, c ? { cluster: c } : {});
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.notes).toContain(note);
  });

  it.each([
    { name: 'paused cluster', c: cluster({ paused: true }), m: fresh() },
    { name: 'paused machine', c: cluster(), m: { ...fresh(), metadata: { ...fresh().metadata, annotations: { [Annotations.paused]: '' } } } as Machine },
  ])('does nothing at all for a $name', ({ c, m }) => {
    // Act
    const plan = planMachine(m, { instances: [], nodes: [] }, T0, { cluster: c });
    // Assess
    expect(plan.writes).toEqual([]);
    expect(plan.actions).toEqual([]);
    expect(plan.notes).toEqual(['Machine m1: paused, nothing done']);
  });
});

describe('Machine deletion', () => {
  it('starts the drain of a worker: records the start, drains, and looks again when the timeout ends', () => {
    // Prepare
    const m = machine('w1', { deleting: true, drainTimeout: 300 });
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster() });
    // Assess
    expect(statusOf(plan)?.deletion?.nodeDrainStartTime).toBe(iso(T0));
    expect(plan.actions).toEqual([{ type: 'DrainNode', machine: expect.objectContaining({ name: 'w1' }), nodeName: 'node-w1', timeoutSeconds: 300 }]);
    expect(plan.requeueAfterSeconds).toBe(300);
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({ status: 'True', reason: 'DrainingNode' });
  });

  it('keeps draining with the time that is left', () => {
    // Prepare
    const m = machine('w1', { deleting: true, drainTimeout: 300 });
    m.status = { ...m.status, deletion: { nodeDrainStartTime: ago(T0, 100) } };
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'DrainNode', timeoutSeconds: 200 })]);
    expect(plan.requeueAfterSeconds).toBe(200);
  });

  it.each([
    {
      name: 'the drain timed out',
      m: () => {
        const m = machine('w1', { deleting: true, drainTimeout: 300 });
        m.status = { ...m.status, deletion: { nodeDrainStartTime: ago(T0, 300) } };
        return m;
      },
      nodes: true,
    },
    { name: 'the drain succeeded', m: () => machine('w1', { deleting: true, conditions: [condition('DrainingSucceeded', 'True')] }), nodes: true },
    { name: 'the node is gone', m: () => machine('w1', { deleting: true }), nodes: false },
  ])('terminates the instance once $name', ({ m, nodes }) => {
    // Prepare
    const mm = m();
    // Act
    const plan = planMachine(mm, { instances: [instance(mm)], nodes: nodes ? [node(mm)] : [] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([{ type: 'TerminateInstance', machine: expect.objectContaining({ name: 'w1' }), providerID: 'sim:///zone/w1' }]);
  });

  it('drains forever when nodeDrainTimeoutSeconds is 0 (no requeue for a timeout that never comes)', () => {
    // Prepare
    const m = machine('w1', { deleting: true, drainTimeout: 0 });
    m.status = { ...m.status, deletion: { nodeDrainStartTime: ago(T0, 86400) } };
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'DrainNode', timeoutSeconds: 0 })]);
    expect(plan.requeueAfterSeconds).toBeUndefined();
  });

  it('does not drain a control-plane machine; where etcd is not read, terminates its instance at once', () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster(), controlPlane: controlPlane() });
    // Assess
    expect(plan.actions).toEqual([{ type: 'TerminateInstance', machine: expect.objectContaining({ name: 'cp-1' }), providerID: 'sim:///zone/cp-1' }]);
  });

  it('removes the etcd member of a control-plane machine (named after its node) before its instance is terminated', () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    const etcd = { members: [etcdMember('node-cp-1'), etcdMember('node-cp-2')] };
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)], etcd }, T0, { cluster: cluster(), controlPlane: controlPlane() });
    // Assess
    expect(plan.actions).toEqual([
      {
        type: 'RemoveEtcdMember',
        cluster: { kind: 'Cluster', namespace: m.metadata.namespace, name: m.spec.clusterName },
        member: 'node-cp-1',
        machine: expect.objectContaining({ name: 'cp-1' }),
      },
    ]);
    expect(plan.writes).toEqual([expect.objectContaining({ type: 'UpdateStatus' })]);
    expect(plan.requeueAfterSeconds).toBe(15);
  });

  it('terminates the instance once etcd no longer lists the member', () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)], etcd: { members: [etcdMember('node-cp-2')] } }, T0, {
      cluster: cluster(),
      controlPlane: controlPlane(),
    });
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'TerminateInstance' })]);
  });

  it('removes the member of a machine whose instance and node are gone (by its nodeRef) before the machine goes', () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    m.status = { ...m.status, nodeRef: { name: 'node-cp-1' } };
    // Act
    const plan = planMachine(m, { instances: [], nodes: [], etcd: { members: [etcdMember('node-cp-1', { healthy: false }), etcdMember('node-cp-2')] } }, T0, {
      cluster: cluster(),
      controlPlane: controlPlane(),
    });
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'RemoveEtcdMember', member: 'node-cp-1' })]);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
  });

  it("never removes the member a forged nodeRef names when that node is another instance's", () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    const other = cpMachine('cp-2');
    m.status = { ...m.status, nodeRef: { name: 'node-cp-2' } };
    // Act
    const plan = planMachine(m, { instances: [instance(other)], nodes: [node(other)], etcd: { members: [etcdMember('node-cp-2')] } }, T0, {
      cluster: cluster(),
      controlPlane: controlPlane(),
    });
    // Assess
    expect(plan.actions.filter((a) => a.type === 'RemoveEtcdMember')).toEqual([]);
  });

  it('waits, terminating nothing, while etcd cannot be read', () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)], etcd: { members: [], error: 'connection refused' } }, T0, {
      cluster: cluster(),
      controlPlane: controlPlane(),
    });
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.notes.join('\n')).toContain('Waiting to read etcd');
  });

  it.each([
    { name: 'worker of a deleting cluster: no drain', m: () => machine('w1', { deleting: true }), c: cluster({ deleting: true }), cp: undefined },
    {
      name: 'control-plane machine of a deleting control plane: no etcd member removed',
      m: () => cpMachine('cp-1', { deleting: true }),
      c: cluster(),
      cp: controlPlane({}, { deleting: true }),
    },
  ])('$name', ({ m, c, cp }) => {
    // Prepare
    const mm = m();
    // Act
    const etcd = { members: [etcdMember(`node-${mm.metadata.name}`)] };
    const plan = planMachine(mm, { instances: [instance(mm)], nodes: [node(mm)], etcd }, T0, { cluster: c, ...(cp ? { controlPlane: cp } : {}) });
    // Assess
    expect(plan.actions).toEqual([
      { type: 'TerminateInstance', machine: expect.objectContaining({ name: mm.metadata.name }), providerID: `sim:///zone/${mm.metadata.name}` },
    ]);
  });

  // A Machine's status (nodeRef, infrastructure) and spec.providerID are anyone's to write who may write the
  // Machine: the deletion acts only on the instance found by the machine's uid tag, and on that instance's node.
  it('does not drain the node a forged nodeRef names: it terminates its own instance', () => {
    // Prepare: w1's status names w2's node; w1's own instance has no node.
    const m = machine('w1', { deleting: true });
    m.status = { ...m.status, nodeRef: { name: 'node-w2' } };
    const w2 = machine('w2');
    // Act
    const plan = planMachine(m, { instances: [instance(m), instance(w2)], nodes: [node(w2)] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([{ type: 'TerminateInstance', machine: expect.objectContaining({ name: 'w1' }), providerID: 'sim:///zone/w1' }]);
  });

  it('does not drain the node a forged spec.providerID names, nor terminate its instance', () => {
    // Prepare: w1's spec names w2's instance (and so its node).
    const m = machine('w1', { deleting: true });
    const w2 = machine('w2');
    const forged = { ...m, spec: { ...m.spec, providerID: w2.spec.providerID } };
    // Act
    const plan = planMachine(forged, { instances: [instance(m), instance(w2)], nodes: [node(w2)] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([{ type: 'TerminateInstance', machine: expect.objectContaining({ name: 'w1' }), providerID: 'sim:///zone/w1' }]);
  });

  it("completes once its own instance is gone, though spec.providerID names another machine's live instance", () => {
    const m = machine('w1', { deleting: true });
    const w2 = machine('w2');
    const forged = { ...m, spec: { ...m.spec, providerID: w2.spec.providerID } };
    const plan = planMachine(forged, { instances: [instance(m, 'terminated'), instance(w2)], nodes: [node(w2)] }, T0, { cluster: cluster() });
    expect(plan.actions).toEqual([]);
    expect(plan.writes).toContainEqual({ type: 'RemoveFinalizer', ref: expect.objectContaining({ name: 'w1' }), finalizer: Finalizers.machine });
  });

  it('waits to read the node before draining it when the workload cluster cannot be read, within the drain timeout', () => {
    // Prepare
    const m = machine('w1', { deleting: true, drainTimeout: 300 });
    // Act
    const plan = planMachine(m, { instances: [instance(m)] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([]);
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({ status: 'True', reason: 'DrainingNode' });
    expect(plan.requeueAfterSeconds).toBe(300);
  });

  it('names no etcd member after the node a forged nodeRef of a control-plane machine names', () => {
    const m = cpMachine('cp-1', { deleting: true });
    m.status = { ...m.status, nodeRef: { name: 'node-cp-2' } };
    const other = cpMachine('cp-2');
    const plan = planMachine(m, { instances: [instance(m), instance(other)], nodes: [node(other)] }, T0, { cluster: cluster(), controlPlane: controlPlane() });
    expect(plan.actions).toEqual([{ type: 'TerminateInstance', machine: expect.objectContaining({ name: 'cp-1' }), providerID: 'sim:///zone/cp-1' }]);
  });

  it('waits while the instance shuts down', () => {
    // Prepare
    const m = machine('w1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: [instance(m, 'shutting-down')], nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
  });

  it.each([
    { name: 'terminated', instances: (m: Machine) => [instance(m, 'terminated')] },
    { name: 'absent', instances: () => [] },
  ])('removes the finalizer once the instance is $name', ({ instances }) => {
    // Prepare
    const m = machine('w1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: instances(m), nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.writes).toContainEqual({ type: 'RemoveFinalizer', ref: expect.objectContaining({ name: 'w1' }), finalizer: Finalizers.machine });
    expect(plan.actions).toEqual([]);
  });
});

// The Ready summary: core/reconcilers/machine/machine_controller_status.go (setReadyCondition and
// machineConditionCustomMergeStrategy) and its machine_controller_status_test.go.
describe('Machine Ready', () => {
  const readyOf = (plan: Plan) => getCondition(statusOf(plan)?.conditions, 'Ready');

  it('is True with reason Ready when the instance runs and the node is healthy', () => {
    // Prepare
    const m = machine('m1');
    const extra = ['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type) => ({ type, status: 'False' as const, lastTransitionTime: iso(T0) }));
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m, 'True', at(-60), extra)] }, T0, { cluster: cluster() });
    // Assess
    expect(readyOf(plan)).toMatchObject({ status: 'True', reason: 'Ready' });
    expect(getCondition(statusOf(plan)?.conditions, 'Deleting')).toMatchObject({ status: 'False', reason: 'NotDeleting' });
  });

  it('names the deleted instance and node as issues of a machine that is not being deleted', () => {
    // Prepare
    const m = machine('w1');
    // Act
    const plan = planMachine(m, { instances: [instance(m, 'terminated')], nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(readyOf(plan)).toMatchObject({
      status: 'False',
      reason: 'NotReady',
      message: '* InfrastructureReady: Instance i-w1 is terminated\n* NodeHealthy: Node node-w1 has been deleted while the Machine still exists',
    });
  });

  it.each([
    {
      name: 'its instance shutting down and its node deleted',
      m: () => machine('w1', { deleting: true }),
      instances: (m: Machine) => [instance(m, 'shutting-down')],
      message: '* Deleting: Waiting for instance i-w1 to be terminated',
    },
    {
      name: 'no instance ever launched and no node',
      m: () => machine('w1', { deleting: true, launched: false }),
      instances: () => [],
      message: '* Deleting: Deletion completed',
    },
  ])('while deleting, names only the deletion, not the expected loss of $name', ({ m, instances, message }) => {
    // Prepare
    const mm = m();
    // Act
    const plan = planMachine(mm, { instances: instances(mm), nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(readyOf(plan)).toMatchObject({ status: 'False', reason: 'NotReady', message });
  });

  it('while deleting, still names an instance that is not running for another reason than its deletion', () => {
    // Prepare
    const m = machine('w1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: [instance(m, 'stopped')], nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(readyOf(plan)?.message).toContain('* InfrastructureReady: Instance i-w1 is stopped');
  });

  it("while deleting, still names the health check's verdict, even that the node was deleted", () => {
    // Prepare
    const m = machine('w1', {
      deleting: true,
      conditions: [condition('InfrastructureReady', 'True'), { ...condition('HealthCheckSucceeded', 'False', T0, 'NodeDeleted'), message: 'Node gone' }],
    });
    // Act
    const plan = planMachine(m, { instances: [instance(m, 'shutting-down')], nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(readyOf(plan)?.message).toContain('* HealthCheckSucceeded: Node gone');
  });

  it('while deleting, still names a node that is there but not healthy', () => {
    // Prepare
    const m = machine('w1', { deleting: true });
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster() });
    // Assess
    expect(readyOf(plan)?.message).toContain('* NodeHealthy: ');
  });
});

describe('Machine status bookkeeping', () => {
  it("records the machine's generation as observedGeneration", () => {
    // Prepare
    const m = machine('m1');
    m.metadata.generation = 7;
    // Act
    const status = statusOf(planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster() }));
    // Assess
    expect(status?.observedGeneration).toBe(7);
  });

  it('waits for the Node with its spec.providerID while its instance is not seen', () => {
    // Prepare
    const m = machine('m1', { node: false });
    // Act
    const status = statusOf(planMachine(m, { instances: [], nodes: [] }, T0, { cluster: cluster() }));
    // Assess
    expect(getCondition(status?.conditions, 'NodeReady')?.message).toBe('Waiting for a Node with spec.providerID sim:///zone/m1 to exist');
  });

  it('writes no infrastructure status for a machine with no launch and no instance', () => {
    // Act
    const status = statusOf(planMachine(fresh(), { instances: [], nodes: [] }, T0, { cluster: cluster() }));
    // Assess
    expect(status).not.toHaveProperty('infrastructure');
  });

  it('stamps lastUpdated when the phase changes, and keeps it while the phase stays', () => {
    // Prepare
    const m = machine('m1');
    const observed = { instances: [instance(m)], nodes: [node(m)] };
    // Act: the second plan has conditions to write (they were lost), not a new phase.
    const first = statusOf(planMachine(m, observed, T0, { cluster: cluster() }));
    const again = statusOf(planMachine({ ...m, status: { ...first, conditions: [] } }, observed, at(30), { cluster: cluster() }));
    // Assess
    expect(first?.lastUpdated).toBe(iso(T0));
    expect(again?.phase).toBe(first?.phase);
    expect(again?.lastUpdated).toBe(iso(T0));
  });

  it('says a machine failed once, when the failure is first recorded', () => {
    // Prepare
    const m = machine('m1');
    const observed = { instances: [instance(m, 'terminated')], nodes: [] };
    // Act
    const first = planMachine(m, observed, T0, { cluster: cluster() });
    const again = planMachine({ ...m, status: statusOf(first) }, observed, at(30), { cluster: cluster() });
    // Assess
    expect(first.notes.filter((n) => n.startsWith('Machine m1: failed: '))).toHaveLength(1);
    expect(again.notes.filter((n) => n.startsWith('Machine m1: failed: '))).toEqual([]);
  });

  it('blocks the launch while a Cluster has no status yet', () => {
    // Prepare
    const c = cluster();
    delete c.status;
    // Act
    const plan = planMachine(fresh('cp-1', { controlPlane: true }), { instances: [], nodes: [] }, T0, { cluster: c });
    // Assess
    expect(plan.actions).toEqual([]);
    expect(plan.notes).toContain('Machine cp-1: waiting to launch: cluster infrastructure is not ready');
  });
});

describe('Machine deletion around its owners', () => {
  it('lets go of a machine without the finalizer once its instance is gone, with nothing to remove and nothing left to say', () => {
    // Prepare
    const m = machine('w1', { deleting: true });
    delete m.metadata.finalizers;
    // Act
    const plan = planMachine(m, { instances: [], nodes: [] }, T0, { cluster: cluster() });
    // Assess
    expect(plan.writes.some((w) => w.type === 'RemoveFinalizer')).toBe(false);
    expect(plan.notes.some((n) => n.includes('deleting:'))).toBe(false);
  });

  it('still drains a worker when only the control plane is being deleted (the workers are not torn down with it)', () => {
    // Prepare
    const m = machine('w1', { deleting: true, drainTimeout: 300 });
    // Act
    const plan = planMachine(m, { instances: [instance(m)], nodes: [node(m)] }, T0, { cluster: cluster(), controlPlane: controlPlane({}, { deleting: true }) });
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining({ type: 'DrainNode', nodeName: 'node-w1' })]);
  });

  it.each([
    { name: 'a worker whose Cluster is gone is still drained', m: () => machine('w1', { deleting: true }), action: { type: 'DrainNode', nodeName: 'node-w1' } },
    {
      name: 'a control-plane machine whose ControlPlane is gone still has its etcd member removed',
      m: () => cpMachine('cp-1', { deleting: true }),
      action: { type: 'RemoveEtcdMember', member: 'node-cp-1' },
    },
  ])('$name', ({ m, action }) => {
    // Prepare
    const mm = m();
    // Act
    const plan = planMachine(mm, { instances: [instance(mm)], nodes: [node(mm)], etcd: { members: [etcdMember('node-cp-1')] } }, T0, {});
    // Assess
    expect(plan.actions).toEqual([expect.objectContaining(action)]);
  });

  it('planMachines passes the ControlPlane: the machines of a deleting control plane have no etcd member removed', () => {
    // Prepare
    const m = cpMachine('cp-1', { deleting: true });
    // Act
    const plan = planMachines(
      objects({ machines: [m], controlPlane: controlPlane({}, { deleting: true }) }),
      { instances: [instance(m)], nodes: [node(m)], etcd: { members: [etcdMember('node-cp-1')] } },
      T0,
    );
    // Assess
    expect(plan.actions).toEqual([{ type: 'TerminateInstance', machine: expect.objectContaining({ name: 'cp-1' }), providerID: 'sim:///zone/cp-1' }]);
  });
});
