/**
 * etcd quorum, the one thing a control-plane operation must never lose. Learnt from Cluster API's
 * controlplane/kubeadm/reconcilers/kubeadmcontrolplane/remediation.go (targetEtcdClusterHealthy, and the scale-down checks
 * that used to be canSafelyRemoveEtcdMember): project the etcd cluster after the change, assume the worst of
 * every member not known healthy, and allow the change only if the healthy voting members are a quorum of the
 * voting members that remain (https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance).
 *
 * With kubeadm every control-plane machine runs one stacked etcd member named after its node. Where the host reads
 * etcd the members are etcd's own; elsewhere (the simulator) they are inferred from the machines and their nodes.
 */
import type { Machine } from '../../api/machine.js';
import type { Observed } from '../observed.js';
import { isDeleting } from '../cluster/objects.js';
import { etcdMemberNameOf, instanceOf, isInstanceGone, isNodeReady, nodeOf } from '../machine/facts.js';
import { launchRequested } from '../machine/phase.js';

export interface EtcdMember {
  /** The member's name (the node's); empty for a member still joining, as etcd lists a learner not yet started. */
  name: string;
  /** The control-plane machine hosting it. */
  machine?: string;
  healthy: boolean;
  /** Not a voter yet: the change waits until it is promoted (or gone). */
  learner?: boolean;
}

export interface EtcdChange {
  /** One member is about to join (scale up): assumed unhealthy until it proves otherwise. */
  add?: boolean;
  /** The machine whose member is about to leave. */
  removeMachine?: string;
}

export interface EtcdProjection {
  safe: boolean;
  voting: number;
  healthy: number;
  quorum: number;
  learners: number;
}

/**
 * Projects the etcd cluster after the change and says whether it keeps quorum.
 *
 * Note: a new member is counted unhealthy (worst case) except when the cluster has at most one member: going
 * from 0 to 1 and from 1 to 2 members has no failure tolerance to lose, and refusing it would make a control
 * plane impossible to create.
 */
export function projectEtcdCluster(members: readonly EtcdMember[], change: EtcdChange = {}): EtcdProjection {
  let voting = 0;
  let unhealthy = 0;
  let learners = 0;
  if (change.add) {
    voting++;
    if (members.length > 1) unhealthy++;
  }
  for (const m of members) {
    if (m.name === '' || m.learner) {
      // A joining member is never the one removed by name; if its machine is the one leaving, it leaves too.
      if (change.removeMachine !== undefined && m.machine === change.removeMachine) continue;
      learners++;
      unhealthy++;
      continue;
    }
    if (change.removeMachine !== undefined && m.machine === change.removeMachine) continue;
    voting++;
    if (!m.healthy) unhealthy++;
  }
  const quorum = Math.floor(voting / 2) + 1;
  return { safe: voting - unhealthy >= quorum && learners === 0, voting, healthy: voting - unhealthy, quorum, learners };
}

export function targetEtcdClusterHealthy(members: readonly EtcdMember[], change: EtcdChange = {}): boolean {
  return projectEtcdCluster(members, change).safe;
}

/**
 * The etcd members of the control plane. Read from etcd when the host reads it (`observed.etcd`): each member it
 * lists, with the control-plane machine whose node carries its name, healthy when etcd says so and it has no alarm;
 * a machine launched but without a member yet is a member joining. Otherwise inferred from the machines
 * (inferredEtcdMembers).
 */
export function etcdMembersOf(machines: readonly Machine[], observed: Observed): EtcdMember[] {
  const etcd = observed.etcd;
  if (!etcd) return inferredEtcdMembers(machines, observed);
  // Nothing is known of any member: every machine counts as an unhealthy member, so that nothing is judged safe.
  if (etcd.error !== undefined)
    return machines
      .filter((m) => !isDeleting(m) || !isInstanceGone(instanceOf(m, observed)))
      .map((m) => ({ name: '', machine: m.metadata.name, healthy: false, learner: true }));
  const members: EtcdMember[] = [];
  const hosted = new Set<string>();
  for (const fact of etcd.members) {
    const machine = fact.name === '' ? undefined : machines.find((m) => etcdMemberNameOf(m, observed) === fact.name);
    if (machine) hosted.add(machine.metadata.name);
    members.push({
      name: fact.name,
      ...(machine ? { machine: machine.metadata.name } : {}),
      healthy: fact.healthy && fact.alarms.length === 0,
      ...(fact.learner || fact.name === '' ? { learner: true } : {}),
    });
  }
  for (const machine of machines) {
    if (hosted.has(machine.metadata.name) || isDeleting(machine)) continue;
    const instance = instanceOf(machine, observed);
    const joining = etcdMemberNameOf(machine, observed) === undefined && !isInstanceGone(instance);
    if (joining && (launchRequested(machine) || instance !== undefined))
      members.push({ name: '', machine: machine.metadata.name, healthy: false, learner: true });
  }
  return members;
}

/**
 * The etcd members of the control plane as its machines tell them, for a host that reads no etcd:
 * - a machine with a node is a member, healthy while its node is Ready (and the workload cluster could be read);
 * - a machine whose instance runs (or is being launched) but has no node yet is a member joining;
 * - a deleting machine whose instance is gone has left (its member was removed before termination); a
 *   machine that is not deleting but lost its instance keeps a dead member until it is replaced.
 */
export function inferredEtcdMembers(machines: readonly Machine[], observed: Observed): EtcdMember[] {
  const members: EtcdMember[] = [];
  for (const machine of machines) {
    const instance = instanceOf(machine, observed);
    const lookup = nodeOf(machine, observed, instance);
    const nodeName = lookup.node?.name ?? machine.status?.nodeRef?.name;
    const gone = isInstanceGone(instance);
    if (gone && (isDeleting(machine) || nodeName === undefined)) continue;
    if (nodeName === undefined) {
      if (launchRequested(machine) || instance !== undefined) members.push({ name: '', machine: machine.metadata.name, healthy: false, learner: true });
      continue;
    }
    const healthy = !gone && lookup.known && isNodeReady(lookup.node) && machine.status?.failureReason === undefined;
    members.push({ name: nodeName, machine: machine.metadata.name, healthy });
  }
  return members;
}
