/**
 * EtcdMembershipOverClient on a real etcd cluster with mutual TLS: what the control-plane planner reads (members,
 * health, leader, alarms) and the two moves it makes (forward leadership, remove a member), in the order a scale
 * down lives them: a fourth member joins, alarms and a killed member read unhealthy, leadership leaves a member,
 * members are removed down to the last, which is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdMembershipOverClient } from '../../../functions/adapters/etcd/etcd-membership.js';
import type { EtcdFact } from '../../../functions/core/observed.js';
import { type EtcdTarget, EtcdUnavailableError } from '../../../functions/ports.js';
import { type RunningEtcdCluster, settled, startEtcdCluster } from '../../support/etcd-cluster.js';
import { freePort } from '../../support/free-port.js';
import { waitUntil } from '../../support/wait.js';

let etcd: RunningEtcdCluster;
let membership: EtcdMembershipOverClient;

const target = { namespace: 'default', clusterName: 'etcd-test', clusterSpec: {}, instances: [] } as unknown as EtcdTarget;

beforeAll(async () => {
  etcd = await startEtcdCluster({ members: 3 });
  membership = new EtcdMembershipOverClient({ endpointsOf: () => etcd.endpoints(), credentialsOf: async () => etcd.credentials });
});

afterAll(async () => {
  await etcd?.stop();
});

const read = async (): Promise<EtcdFact> => (await membership.read(target))!;
const byName = (fact: EtcdFact, name: string) => fact.members.find((m) => m.name === name)!;
const leaderName = (fact: EtcdFact) => fact.members.find((m) => m.leader)?.name;

describe('EtcdMembershipOverClient on a real etcd cluster', () => {
  it('reads the three members by name and id, all healthy, one leader', async () => {
    const fact = await read();
    const ids = (await etcd.client().memberList()).members;

    expect(fact.members.map((m) => m.name).sort()).toEqual(['member-1', 'member-2', 'member-3']);
    for (const m of fact.members) {
      expect(m).toMatchObject({ id: ids.find((x) => x.name === m.name)!.id, learner: false, healthy: true, alarms: [] });
      expect(m.message).toBeUndefined();
    }
    expect(fact.members.filter((m) => m.leader)).toHaveLength(1);
  });

  it('is undefined when the host reaches no member, and EtcdUnavailableError when none answers', async () => {
    const none = new EtcdMembershipOverClient({ endpointsOf: () => [], credentialsOf: async () => etcd.credentials });
    const dead = `https://127.0.0.1:${await freePort()}`;
    const silent = new EtcdMembershipOverClient({ endpointsOf: () => [dead], credentialsOf: async () => etcd.credentials });

    expect(await none.read(target)).toBeUndefined();
    await expect(silent.read(target)).rejects.toBeInstanceOf(EtcdUnavailableError);
  });

  it('joins a fourth member (memberAdd, started with the list it returned) that reads healthy', async () => {
    await etcd.addMember('member-4');
    const fact = await read();

    expect(fact.members).toHaveLength(4);
    expect(byName(fact, 'member-4')).toMatchObject({ healthy: true, learner: false, alarms: [] });
  });

  it('reads a NOSPACE alarm on its member, which is unhealthy, the others healthy', async () => {
    const client = etcd.client();
    const alarmed = byName(await read(), 'member-2');
    await client.raiseAlarm(alarmed.id, 'NOSPACE');
    try {
      const fact = await read();

      expect(byName(fact, 'member-2')).toMatchObject({ healthy: false, alarms: ['NOSPACE'], message: expect.stringContaining('NOSPACE') });
      expect(fact.members.filter((m) => m.name !== 'member-2').every((m) => m.healthy && m.alarms.length === 0)).toBe(true);
    } finally {
      await client.disarmAlarm(alarmed.id, 'NOSPACE');
    }
    expect(byName(await read(), 'member-2').healthy).toBe(true);
  });

  it('forwards nothing for a follower', async () => {
    const before = await read();
    const follower = before.members.find((m) => !m.leader)!;

    await membership.forwardLeadership(target, follower.name);

    expect(leaderName(await read())).toBe(leaderName(before));
  });

  it('forwards leadership off the leader to another healthy voter', async () => {
    const leader = leaderName(await read())!;

    await membership.forwardLeadership(target, leader);

    const after = await waitUntil('a new leader', async () => {
      const fact = await read();
      const name = leaderName(fact);
      return name && name !== leader ? fact : undefined;
    });
    expect(after.members.filter((m) => m.leader)).toHaveLength(1);
    expect(byName(after, leader).leader).toBe(false);
  });

  it('reads a killed member unhealthy, the others healthy with a leader known', async () => {
    const fact = await read();
    const victim = fact.members.find((m) => !m.leader)!.name;
    await etcd.kill(victim);

    const after = await read();

    expect(byName(after, victim)).toMatchObject({ healthy: false, leader: false, message: expect.stringContaining('did not answer') });
    expect(after.members.filter((m) => m.name !== victim).every((m) => m.healthy)).toBe(true);
    expect(after.members.filter((m) => m.leader)).toHaveLength(1);
  });

  it('removes a member, idempotently', async () => {
    const victim = (await read()).members.find((m) => !m.healthy)!.name;

    await settled('removing the killed member', () => membership.removeMember(target, victim));
    await membership.removeMember(target, victim);

    const after = await read();
    expect(after.members.map((m) => m.name)).not.toContain(victim);
    expect(after.members).toHaveLength(3);
  });

  it('removes members down to one, and refuses to remove the last', async () => {
    for (const name of (await read()).members.map((m) => m.name).slice(1)) {
      await settled(`removing ${name}`, () => membership.removeMember(target, name));
      // A removed member stops itself; wait for that so that the next read does not go to it.
      await waitUntil(`${name} to stop`, async () => !etcd.member(name).running(), 30_000);
    }
    // Reads during the election that follows a leader's removal answer `leader changed`: the planner reads again.
    const [last] = (
      await waitUntil('the one member left', async () => {
        const fact = await settled('reading the members', read);
        return fact.members.length === 1 && fact;
      })
    ).members;

    const refused = membership.removeMember(target, last!.name);

    await expect(refused).rejects.toBeInstanceOf(EtcdUnavailableError);
    // Refused before asking etcd (which would refuse too, for want of started members).
    await expect(refused).rejects.toThrow(/the last etcd member/);

    const after = await read();
    expect(after.members.map((m) => m.name)).toEqual([last!.name]);
    expect(after.members[0]).toMatchObject({ healthy: true, leader: true });
  });
});
