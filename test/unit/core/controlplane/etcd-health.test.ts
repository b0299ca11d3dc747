/**
 * The control plane where the host reads etcd (observed.etcd): conditions from etcd itself, preflight on every
 * member, members no machine hosts, and a lost quorum. Cases after Cluster API's
 * controlplane/kubeadm/internal/workload_cluster_conditions_test.go (TestUpdateManagedEtcdConditions).
 */
import { describe, expect, it } from 'vitest';
import type { ControlPlane } from '../../../../functions/api/control-plane.js';
import type { Machine } from '../../../../functions/api/machine.js';
import { getCondition } from '../../../../functions/core/conditions.js';
import { QUORUM_LOST_REQUEUE_SECONDS, planControlPlane } from '../../../../functions/core/controlplane/planner.js';
import type { EtcdFact, EtcdMemberFact, Observed } from '../../../../functions/core/observed.js';
import type { Plan } from '../../../../functions/core/plan.js';
import { T0, controlPlane, cpMachine, etcdMember, instance, objects, observedFor } from '../cluster/fixtures.js';

const statusOf = (plan: Plan): ControlPlane['status'] => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'ControlPlane');
  return w?.type === 'UpdateStatus' ? (w.object as ControlPlane).status : undefined;
};
const machineCondition = (plan: Plan, name: string) => {
  const w = plan.writes.find((x) => x.type === 'UpdateStatus' && x.object.kind === 'Machine' && x.object.metadata.name === name);
  return w?.type === 'UpdateStatus' ? getCondition((w.object as Machine).status?.conditions, 'EtcdMemberHealthy') : undefined;
};
const created = (plan: Plan) => plan.writes.filter((w) => w.type === 'Create');

/** Machines m1..mN with nodes node-m1..node-mN, and etcd listing a member per machine (overridable by node name). */
function scene(n: number, members: Partial<Record<string, Partial<EtcdMemberFact> | null>> = {}, extra: EtcdMemberFact[] = [], cp = controlPlane()) {
  const machines = Array.from({ length: n }, (_, i) => cpMachine(`m${i + 1}`, { age: 3600 - i }));
  const etcd: EtcdFact = {
    members: [
      ...machines.flatMap((m) => {
        const name = `node-${m.metadata.name}`;
        const o = members[name];
        return o === null ? [] : [etcdMember(name, o ?? {})];
      }),
      ...extra,
    ],
  };
  const observed: Observed = { ...observedFor(machines), etcd };
  return { o: objects({ controlPlane: cp, machines }), observed };
}

describe('ControlPlane conditions from etcd', () => {
  it('EtcdClusterHealthy and every EtcdMemberHealthy are True when every member is healthy and hosted by a machine', () => {
    // Prepare
    const { o, observed } = scene(3);
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(getCondition(statusOf(plan)?.conditions, 'EtcdClusterHealthy')).toMatchObject({ status: 'True', reason: 'Healthy' });
    for (const m of ['m1', 'm2', 'm3']) expect(machineCondition(plan, m)).toMatchObject({ status: 'True', reason: 'Healthy' });
  });

  it('a member with an alarm is not healthy, and the cluster says which machine', () => {
    // Prepare
    const { o, observed } = scene(3, { 'node-m2': { alarms: ['NOSPACE'] } });
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(machineCondition(plan, 'm2')).toMatchObject({ status: 'False', reason: 'NotHealthy', message: 'etcd reports alarms: NOSPACE' });
    expect(getCondition(statusOf(plan)?.conditions, 'EtcdClusterHealthy')).toMatchObject({ status: 'False', reason: 'NotHealthy' });
    expect(getCondition(statusOf(plan)?.conditions, 'EtcdClusterHealthy')?.message).toContain('Machine m2: etcd reports alarms: NOSPACE');
  });

  it('a machine whose member etcd does not list is not healthy', () => {
    // Prepare
    const { o, observed } = scene(3, { 'node-m3': null });
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(machineCondition(plan, 'm3')).toMatchObject({ status: 'False', reason: 'NotHealthy' });
    expect(machineCondition(plan, 'm3')?.message).toContain('node-m1, node-m2');
  });

  it('etcd that cannot be read: EtcdClusterHealthy and Available Unknown, and nothing is scaled', () => {
    // Prepare
    const { o, observed } = scene(2);
    observed.etcd = { members: [], error: 'connect ECONNREFUSED' };
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    const conditions = statusOf(plan)?.conditions;
    expect(getCondition(conditions, 'EtcdClusterHealthy')).toMatchObject({ status: 'Unknown', reason: 'HealthUnknown' });
    expect(getCondition(conditions, 'Available')).toMatchObject({ status: 'Unknown' });
    expect(machineCondition(plan, 'm1')).toMatchObject({ status: 'Unknown', reason: 'InspectionFailed' });
    expect(created(plan)).toEqual([]);
    expect(plan.notes.join('\n')).toContain('etcd could not be read: connect ECONNREFUSED');
  });

  it('no etcd condition at all where the host reads no etcd (the simulator)', () => {
    // Prepare
    const machines = [cpMachine('m1'), cpMachine('m2'), cpMachine('m3')];
    // Act
    const plan = planControlPlane(objects({ controlPlane: controlPlane(), machines }), observedFor(machines), T0);
    // Assess
    expect(getCondition(statusOf(plan)?.conditions, 'EtcdClusterHealthy')).toBeUndefined();
    expect(machineCondition(plan, 'm1')).toBeUndefined();
  });
});

describe('ControlPlane changes gated on etcd', () => {
  it('a scale-up waits while a member is unhealthy, though every node is Ready', () => {
    // Prepare
    const { o, observed } = scene(3, { 'node-m1': { healthy: false, message: 'context deadline exceeded' } }, [], controlPlane({ replicas: 5 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(created(plan)).toEqual([]);
    expect(plan.notes.join('\n')).toContain('Machine m1: context deadline exceeded');
  });

  it('a scale-up goes on once every member is healthy', () => {
    // Prepare
    const { o, observed } = scene(1, {}, [], controlPlane({ replicas: 3 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(created(plan)).toHaveLength(1);
  });

  it('removes a member no machine hosts, once every machine has its node, and nothing else that reconcile', () => {
    // Prepare
    const { o, observed } = scene(3, {}, [etcdMember('node-gone', { healthy: false })], controlPlane({ replicas: 5 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(plan.actions).toEqual([{ type: 'RemoveEtcdMember', cluster: expect.objectContaining({ kind: 'Cluster', name: 'demo' }), member: 'node-gone' }]);
    expect(created(plan)).toEqual([]);
    expect(getCondition(statusOf(plan)?.conditions, 'EtcdClusterHealthy')?.message).toContain('etcd member node-gone has no corresponding Machine');
  });

  it('leaves a member no machine hosts while a machine is still joining (its member may be that one)', () => {
    // Prepare
    const { o, observed } = scene(2, {}, [etcdMember('node-m3')], controlPlane({ replicas: 3 }));
    o.machines.push(cpMachine('m3', { node: false }));
    // Act
    const plan = planControlPlane(o, { ...observed, instances: [...observed.instances] }, T0);
    // Assess
    expect(plan.actions.filter((a) => a.type === 'RemoveEtcdMember')).toEqual([]);
  });

  it('a lost quorum stops every operation, says why, and looks again each minute', () => {
    // Prepare: m2 and m3's members are dead; a health check would remediate m2.
    const { o, observed } = scene(3, { 'node-m2': { healthy: false }, 'node-m3': { healthy: false } }, [], controlPlane({ replicas: 5 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(plan.actions).toEqual([]);
    expect(created(plan)).toEqual([]);
    expect(plan.requeueAfterSeconds).toBe(QUORUM_LOST_REQUEUE_SECONDS);
    expect(plan.notes.join('\n')).toContain('etcd has lost its quorum (1 healthy member(s) of 3, quorum is 2)');
  });
});

describe('EtcdMemberHealthy and EtcdClusterHealthy, case by case', () => {
  const clusterCondition = (plan: Plan) => getCondition(statusOf(plan)?.conditions, 'EtcdClusterHealthy');

  it('a deleting machine reads False (Deleting), and the cluster judges the others only', () => {
    // Prepare
    const { o, observed } = scene(3);
    o.machines[2]!.metadata.deletionTimestamp = T0.toISOString();
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(machineCondition(plan, 'm3')).toMatchObject({ status: 'False', reason: 'Deleting', message: 'Machine is deleting' });
    expect(clusterCondition(plan)).toMatchObject({ status: 'True' });
  });

  it('a machine without its node yet reads Unknown, and so does the cluster, though every member is healthy', () => {
    // Prepare
    const { o, observed } = scene(2);
    const joining = cpMachine('m3', { node: false });
    o.machines.push(joining);
    observed.instances.push(instance(joining));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(machineCondition(plan, 'm3')).toMatchObject({
      status: 'Unknown',
      reason: 'InspectionFailed',
      message: 'Waiting for the Node of this machine to exist',
    });
    expect(clusterCondition(plan)).toMatchObject({
      status: 'Unknown',
      reason: 'HealthUnknown',
      message: '* Machine m3: Waiting for the Node of this machine to exist',
    });
  });

  it('a learner not yet promoted is not healthy', () => {
    // Act
    const { o, observed } = scene(3, { 'node-m2': { learner: true } });
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(machineCondition(plan, 'm2')).toMatchObject({ status: 'False', message: 'etcd member node-m2 is a learner, not yet promoted' });
  });

  it("a member that does not answer carries etcd's reason, or says it does not answer", () => {
    // Act
    const { o, observed } = scene(3, { 'node-m1': { healthy: false, message: 'context deadline exceeded' }, 'node-m2': { healthy: false } });
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(machineCondition(plan, 'm1')).toMatchObject({ status: 'False', message: 'context deadline exceeded' });
    expect(machineCondition(plan, 'm2')).toMatchObject({ status: 'False', message: 'etcd member node-m2 does not answer' });
    expect(clusterCondition(plan)?.message).toBe('* Machine m1: context deadline exceeded\n* Machine m2: etcd member node-m2 does not answer');
  });

  it('etcd that lists no member at all reads Unknown', () => {
    // Prepare: the only machine has no node yet, and etcd answers with nothing.
    const joining = cpMachine('m1', { node: false });
    const o = objects({ controlPlane: controlPlane({}, { initialized: false }), machines: [joining] });
    // Act
    const plan = planControlPlane(o, { instances: [instance(joining)], nodes: [], etcd: { members: [] } }, T0);
    // Assess
    expect(clusterCondition(plan)).toMatchObject({ status: 'Unknown' });
  });

  it('a member no machine hosts stays while removing it would cost the quorum', () => {
    // Prepare: 2 machines, one of them unhealthy, and a healthy member no machine hosts.
    const { o, observed } = scene(2, { 'node-m2': { healthy: false } }, [etcdMember('node-orphan')], controlPlane({ replicas: 3 }));
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess: without it, 1 healthy of 2 voters: no quorum.
    expect(plan.actions.filter((a) => a.type === 'RemoveEtcdMember')).toEqual([]);
  });

  it('a control plane not yet initialized has no quorum to lose', () => {
    // Prepare
    const { o, observed } = scene(
      3,
      { 'node-m2': { healthy: false }, 'node-m3': { healthy: false } },
      [],
      controlPlane({ replicas: 3 }, { initialized: false }),
    );
    // Act
    const plan = planControlPlane(o, observed, T0);
    // Assess
    expect(plan.notes.join('\n')).not.toContain('lost its quorum');
  });
});
