import { describe, expect, it } from 'vitest';
import { etcdMembersOf, projectEtcdCluster, targetEtcdClusterHealthy, type EtcdMember } from '../../../../functions/core/controlplane/etcd.js';
import type { EtcdMemberFact, Observed } from '../../../../functions/core/observed.js';
import { cpMachine, etcdMember, instance, node } from '../cluster/fixtures.js';

// The cases of Cluster API's controlplane/kubeadm/reconcilers/kubeadmcontrolplane/remediation_test.go
// (TestTargetEtcdClusterHealthy). m1 is the member to remove; h = healthy, u = unhealthy, '' = joining.
const members = (spec: string): EtcdMember[] =>
  spec.split(' ').map((s) => {
    const [name, health] = s.split(':') as [string, string];
    return health === 'joining' ? { name: '', machine: name, healthy: false, learner: true } : { name: `node-${name}`, machine: name, healthy: health === 'h' };
  });

describe('targetEtcdClusterHealthy: removing a member', () => {
  it.each([
    { name: "Can't safely remove a member from a CP with one Machine", members: 'm1:u', safe: false },
    { name: 'Can safely remove a member from a CP with two Machines without additional etcd member failures', members: 'm1:u m2:h', safe: true },
    { name: 'Can safely remove a member from a CP with two Machines when the etcd member being remediated is missing', members: 'm2:h', safe: true },
    { name: "Can't safely remove a member from a CP with two Machines with one additional etcd member failure", members: 'm1:u m2:u', safe: false },
    { name: 'Can safely remove a member from a CP with three Machines without additional etcd member failures', members: 'm1:u m2:h m3:h', safe: true },
    { name: 'Can safely remove a member from a CP with three Machines when the etcd member being remediated is missing', members: 'm2:h m3:h', safe: true },
    { name: "Can't safely remove a member from a CP with three Machines with one additional etcd member failure", members: 'm1:u m2:u m3:h', safe: false },
    { name: 'Can safely remove a member from a CP with three Machines when another etcd member is missing', members: 'm1:u m3:h', safe: true },
    { name: 'Can safely remove a member from a CP with three Machines when the remediated and another member are missing', members: 'm3:h', safe: true },
    {
      name: 'Can safely remove a member from a CP with five Machines with less than 2 additional etcd member failures',
      members: 'm1:u m2:u m3:h m4:h m5:h',
      safe: true,
    },
    { name: 'Can safely remove a member from a CP with five Machines with missing members but quorum', members: 'm1:u m3:h m4:h m5:h', safe: true },
    {
      name: "Can't safely remove a member from a CP with five Machines with 2 additional etcd member failures",
      members: 'm1:u m2:u m3:u m4:h m5:h',
      safe: false,
    },
    {
      name: 'Can safely remove a member from a CP with seven Machines with less than 3 additional etcd member failures',
      members: 'm1:u m2:u m3:u m4:h m5:h m6:h m7:h',
      safe: true,
    },
    { name: 'Can safely remove a member from a CP with seven Machines with missing members but quorum', members: 'm1:u m3:u m4:h m5:h m6:h m7:h', safe: true },
    {
      name: "Can't safely remove a member from a CP with seven Machines with 3 additional etcd member failures",
      members: 'm1:u m2:u m3:u m4:u m5:h m6:h m7:h',
      safe: false,
    },
    { name: "Can't safely remove a member from a CP with an etcd member starting up", members: 'm1:u m2:h m3:h m4:joining', safe: false },
  ])('$name', ({ members: spec, safe }) => {
    // Act & Assess
    expect(targetEtcdClusterHealthy(members(spec), { removeMachine: 'm1' })).toBe(safe);
  });
});

describe('targetEtcdClusterHealthy: adding a member', () => {
  it.each([
    { name: 'Can safely add a member to a CP without Machines', members: '', safe: true },
    { name: 'Can safely add a member to a CP with one Machine', members: 'm1:h', safe: true },
    { name: "Can't safely add a member to a CP with one Machine with unhealthy etcd member", members: 'm1:u', safe: false },
    { name: 'Can safely add a member to a CP with two Machine', members: 'm1:h m2:h', safe: true },
    { name: "Can't safely add a member to a CP with two Machine with one additional etcd member failure", members: 'm1:h m2:u', safe: false },
    { name: 'Can safely add a member to a CP with three Machine', members: 'm1:h m2:h m3:h', safe: true },
    { name: "Can't safely add a member to a CP with three Machine with one additional etcd member failure", members: 'm1:h m2:h m3:u', safe: false },
    { name: 'Can safely add a member to a CP with four Machine', members: 'm1:h m2:h m3:h m4:h', safe: true },
    { name: 'Can safely add a member to a CP with four Machine with one additional etcd member failure', members: 'm1:h m2:h m3:h m4:u', safe: true },
    { name: "Can't safely add a member to a CP with four Machine with two additional etcd member failure", members: 'm1:h m2:h m3:u m4:u', safe: false },
    { name: 'Can safely add a member to a CP with five Machine', members: 'm1:h m2:h m3:h m4:h m5:h', safe: true },
    { name: "Can't safely add a member to a CP with five Machine with two additional etcd member failure", members: 'm1:h m2:h m3:h m4:u m5:u', safe: false },
    { name: "Can't safely add a member to a CP with a learner etcd member", members: 'm1:h m2:h m3:joining', safe: false },
  ])('$name', ({ members: spec, safe }) => {
    // Act & Assess
    expect(targetEtcdClusterHealthy(spec === '' ? [] : members(spec), { add: true })).toBe(safe);
  });

  it('counts a member etcd lists without a name (not started yet) like a learner: no change until it has joined', () => {
    // Prepare: etcd's member list shows a member added but not started with an empty name, learner or not.
    const list: EtcdMember[] = [...members('m1:h m2:h m3:h'), { name: '', machine: 'm4', healthy: false }];
    // Act & Assess
    expect(projectEtcdCluster(list, { add: true })).toMatchObject({ safe: false, learners: 1 });
    expect(projectEtcdCluster(list, { removeMachine: 'm1' })).toMatchObject({ safe: false, learners: 1 });
    expect(projectEtcdCluster(list, { removeMachine: 'm4' })).toEqual({ safe: true, voting: 3, healthy: 3, quorum: 2, learners: 0 });
  });

  it('reports the projected numbers', () => {
    // Act & Assess
    expect(projectEtcdCluster(members('m1:u m2:h m3:h m4:h m5:u'), { removeMachine: 'm1' })).toEqual({
      safe: true,
      voting: 4,
      healthy: 3,
      quorum: 3,
      learners: 0,
    });
  });
});

describe('etcdMembersOf', () => {
  it('reads the members from the control-plane machines and their nodes', () => {
    // Prepare
    const ready = cpMachine('a');
    const notReady = cpMachine('b');
    const joining = cpMachine('c', { node: false });
    const leftAlready = cpMachine('d', { deleting: true });
    const deadNotDeleting = cpMachine('e');
    const neverLaunched = cpMachine('f', { launched: false });
    const observed = {
      instances: [instance(ready), instance(notReady), instance(joining), instance(leftAlready, 'terminated'), instance(deadNotDeleting, 'terminated')],
      nodes: [node(ready), node(notReady, 'False')],
    };
    // Act
    const result = etcdMembersOf([ready, notReady, joining, leftAlready, deadNotDeleting, neverLaunched], observed);
    // Assess
    expect(result).toEqual([
      { name: 'node-a', machine: 'a', healthy: true },
      { name: 'node-b', machine: 'b', healthy: false },
      { name: '', machine: 'c', healthy: false, learner: true },
      { name: 'node-e', machine: 'e', healthy: false },
    ]);
  });

  it('counts the member of a machine with a failure reason unhealthy, even while its node is Ready', () => {
    // failureReason is a terminal problem that needs a human (Cluster API's MachineStatus.FailureReason): such a
    // member is not trusted for quorum whatever its node says, so no removal may lean on it.
    // Prepare
    const failed = cpMachine('a', { failureReason: 'UpdateError' });
    const ok = cpMachine('b');
    // Act
    const result = etcdMembersOf([failed, ok], { instances: [instance(failed), instance(ok)], nodes: [node(failed), node(ok)] });
    // Assess
    expect(result).toEqual([
      { name: 'node-a', machine: 'a', healthy: false },
      { name: 'node-b', machine: 'b', healthy: true },
    ]);
  });

  it('counts the member of a machine whose instance is gone unhealthy, even while its node still shows Ready', () => {
    // Prepare: the instance was terminated behind the machine's back; the node has not turned NotReady yet.
    const m = cpMachine('a');
    // Act & Assess
    expect(etcdMembersOf([m], { instances: [instance(m, 'terminated')], nodes: [node(m)] })).toEqual([{ name: 'node-a', machine: 'a', healthy: false }]);
  });

  it('does not count a machine whose instance went away before it ever had a node: no member ever joined', () => {
    // Prepare
    const m = cpMachine('a', { node: false });
    // Act & Assess
    expect(etcdMembersOf([m], { instances: [instance(m, 'terminated')], nodes: [] })).toEqual([]);
  });

  it('counts a machine whose instance runs, though its launch is not recorded yet, as a member joining', () => {
    // Prepare: the provider found the instance by the machine's uid tag before the machine's status said so.
    const launched = cpMachine('a', { node: false });
    const m = { ...launched, status: { ...launched.status, infrastructure: undefined } } as typeof launched;
    // Act & Assess
    expect(etcdMembersOf([m], { instances: [instance(m)], nodes: [] })).toEqual([{ name: '', machine: 'a', healthy: false, learner: true }]);
  });

  it('trusts no member when the workload cluster cannot be read', () => {
    // Prepare
    const m = cpMachine('a');
    // Act & Assess
    expect(etcdMembersOf([m], { instances: [instance(m)] })).toEqual([{ name: 'node-a', machine: 'a', healthy: false }]);
  });
});

describe('etcdMembersOf: the members as etcd lists them', () => {
  // m1 and m2 have nodes and members; m3 was launched and has no node yet; m4 is deleting with its instance gone.
  const m1 = cpMachine('m1');
  const m2 = cpMachine('m2');
  const m3 = cpMachine('m3', { node: false });
  const m4 = cpMachine('m4', { deleting: true });
  const observedWith = (members: EtcdMemberFact[], error?: string): Observed => ({
    instances: [instance(m1), instance(m2), instance(m3), instance(m4, 'terminated')],
    nodes: [node(m1), node(m2)],
    etcd: { members, ...(error !== undefined ? { error } : {}) },
  });

  it('maps each member to the machine whose node carries its name; an alarm or a failed status makes it unhealthy; a machine launched without a member is joining', () => {
    // Act
    const members = etcdMembersOf(
      [m1, m2, m3, m4],
      observedWith([etcdMember('node-m1'), etcdMember('node-m2', { alarms: ['NOSPACE'] }), etcdMember('node-gone', { healthy: false })]),
    );
    // Assess
    expect(members).toEqual([
      { name: 'node-m1', machine: 'm1', healthy: true },
      { name: 'node-m2', machine: 'm2', healthy: false },
      { name: 'node-gone', healthy: false },
      { name: '', machine: 'm3', healthy: false, learner: true },
    ]);
  });

  it('counts a learner and a member added but not started as learners, matched to no machine by an empty name', () => {
    // Act
    const members = etcdMembersOf([m1, m2], observedWith([etcdMember('node-m1', { learner: true }), etcdMember('', { healthy: false })]));
    // Assess
    expect(members).toEqual([
      { name: 'node-m1', machine: 'm1', healthy: true, learner: true },
      { name: '', healthy: false, learner: true },
    ]);
  });

  it('without a read (no member answered), every machine that may still run is an unknown member: nothing is judged safe', () => {
    // Act
    const members = etcdMembersOf([m1, m2, m3, m4], observedWith([], 'connection refused'));
    // Assess
    expect(members).toEqual(['m1', 'm2', 'm3'].map((machine) => ({ name: '', machine, healthy: false, learner: true })));
    expect(projectEtcdCluster(members).safe).toBe(false);
  });

  it('a deleting machine whose member etcd still lists keeps it; a deleting machine without one is not joining', () => {
    // Act
    const deleting = cpMachine('m5', { deleting: true });
    const members = etcdMembersOf([m1, deleting], {
      instances: [instance(m1), instance(deleting)],
      nodes: [node(m1), node(deleting)],
      etcd: { members: [etcdMember('node-m1'), etcdMember('node-m5')] },
    });
    const without = etcdMembersOf([m1, deleting], {
      instances: [instance(m1), instance(deleting)],
      nodes: [node(m1), node(deleting)],
      etcd: { members: [etcdMember('node-m1')] },
    });
    // Assess
    expect(members).toEqual([
      { name: 'node-m1', machine: 'm1', healthy: true },
      { name: 'node-m5', machine: 'm5', healthy: true },
    ]);
    expect(without).toEqual([{ name: 'node-m1', machine: 'm1', healthy: true }]);
  });
});
