/**
 * The control plane's etcd as etcd reports it: each machine's EtcdMemberHealthy, the ControlPlane's
 * EtcdClusterHealthy, what keeps a scale or rollout waiting, and the members no machine hosts. Learnt from Cluster
 * API's controlplane/kubeadm/internal/workload_cluster_conditions.go (updateManagedEtcdConditions,
 * compareMachinesAndMembers) and controllers/controller.go (reconcileEtcdMembers). Nothing here is set for a cluster
 * whose etcd the host does not read (the simulator): the planners infer the members from nodes there.
 */
import type { Machine } from '../../api/machine.js';
import { setConditions, type ConditionInput } from '../conditions.js';
import type { Write } from '../plan.js';
import { isDeleting, statusWrite } from '../cluster/objects.js';
import { etcdMemberOf } from '../machine/facts.js';
import { projectEtcdCluster } from './etcd.js';
import { healthOf, type ControlPlaneScope } from './scope.js';

export const EtcdReason = {
  Healthy: 'Healthy',
  NotHealthy: 'NotHealthy',
  HealthUnknown: 'HealthUnknown',
  InspectionFailed: 'InspectionFailed',
  Deleting: 'Deleting',
} as const;

/** The machine's EtcdMemberHealthy; undefined when the host reads no etcd for this cluster. */
export function machineEtcdCondition(scope: ControlPlaneScope, machine: Machine): ConditionInput | undefined {
  const etcd = etcdMemberOf(machine, scope.observed);
  if (etcd.read === 'none') return undefined;
  const condition = (status: ConditionInput['status'], reason: string, message?: string): ConditionInput => ({
    type: 'EtcdMemberHealthy',
    status,
    reason,
    ...(message ? { message } : {}),
  });
  if (isDeleting(machine)) return condition('False', EtcdReason.Deleting, 'Machine is deleting');
  if (!healthOf(scope, machine).hasNode) return condition('Unknown', EtcdReason.InspectionFailed, 'Waiting for the Node of this machine to exist');
  if (etcd.read === 'failed') return condition('Unknown', EtcdReason.InspectionFailed, `Failed to connect to etcd: ${etcd.message}`);
  const member = etcd.member;
  if (!member)
    return condition(
      'False',
      EtcdReason.NotHealthy,
      `etcd reports the members ${memberNames(scope)}, but not the member of this machine${etcd.name ? ` (${etcd.name})` : ''}`,
    );
  if (member.alarms.length > 0) return condition('False', EtcdReason.NotHealthy, `etcd reports alarms: ${member.alarms.join(', ')}`);
  if (!member.healthy) return condition('False', EtcdReason.NotHealthy, member.message ?? `etcd member ${member.name} does not answer`);
  if (member.learner) return condition('False', EtcdReason.NotHealthy, `etcd member ${member.name} is a learner, not yet promoted`);
  return condition('True', EtcdReason.Healthy);
}

/** Members etcd lists that no control-plane machine hosts (by the node name kubeadm gives them). */
export function unhostedMembers(scope: ControlPlaneScope): string[] {
  const etcd = scope.observed.etcd;
  if (!etcd || etcd.error !== undefined) return [];
  const hosted = new Set(scope.members.filter((m) => m.machine !== undefined).map((m) => m.name));
  return etcd.members.filter((m) => m.name !== '' && !hosted.has(m.name)).map((m) => m.name);
}

/**
 * The ControlPlane's EtcdClusterHealthy: the machines' EtcdMemberHealthy aggregated, plus members no machine hosts.
 * Undefined when the host reads no etcd for this cluster.
 */
export function etcdClusterCondition(scope: ControlPlaneScope): ConditionInput | undefined {
  const etcd = scope.observed.etcd;
  if (!etcd) return undefined;
  if (etcd.error !== undefined)
    return { type: 'EtcdClusterHealthy', status: 'Unknown', reason: EtcdReason.HealthUnknown, message: `Failed to connect to etcd: ${etcd.error}` };
  const issues: string[] = [];
  const unknown: string[] = [];
  for (const machine of scope.machines) {
    if (isDeleting(machine)) continue;
    const c = machineEtcdCondition(scope, machine);
    if (c?.status === 'False') issues.push(`* Machine ${machine.metadata.name}: ${c.message}`);
    else if (c?.status === 'Unknown') unknown.push(`* Machine ${machine.metadata.name}: ${c.message}`);
  }
  for (const name of unhostedMembers(scope)) issues.push(`* etcd member ${name} has no corresponding Machine`);
  if (issues.length > 0) return { type: 'EtcdClusterHealthy', status: 'False', reason: EtcdReason.NotHealthy, message: [...issues, ...unknown].join('\n') };
  if (unknown.length > 0) return { type: 'EtcdClusterHealthy', status: 'Unknown', reason: EtcdReason.HealthUnknown, message: unknown.join('\n') };
  if (etcd.members.length === 0) return { type: 'EtcdClusterHealthy', status: 'Unknown', reason: EtcdReason.HealthUnknown, message: 'etcd lists no member' };
  return { type: 'EtcdClusterHealthy', status: 'True', reason: EtcdReason.Healthy };
}

/**
 * Why etcd keeps a change waiting (KCP preflightChecks: every member healthy and members matching machines), or
 * nothing. `exclude` is the machine about to go, whose member may be anything.
 */
export function etcdPreflightIssues(scope: ControlPlaneScope, exclude?: Machine): string[] {
  const etcd = scope.observed.etcd;
  if (!etcd) return [];
  if (etcd.error !== undefined) return [`etcd could not be read: ${etcd.error}`];
  const issues: string[] = [];
  for (const machine of scope.machines) {
    if (machine === exclude || isDeleting(machine) || !healthOf(scope, machine).hasNode) continue;
    const c = machineEtcdCondition(scope, machine);
    if (c?.status !== 'True') issues.push(`Machine ${machine.metadata.name}: ${c?.message ?? 'etcd member health unknown'}`);
  }
  for (const name of unhostedMembers(scope)) issues.push(`etcd member ${name} has no corresponding Machine`);
  return issues;
}

/**
 * Members to remove because no machine hosts them (KCP reconcileEtcdMembers): only once every machine has its node
 * (a member joining has no machine to match yet) and nothing is being deleted, one per reconcile, and only if etcd
 * keeps its quorum without it. Such a member is what a machine lost outside a deletion leaves behind.
 */
export function orphanEtcdMember(scope: ControlPlaneScope): string | undefined {
  if (scope.machines.some((m) => isDeleting(m) || !healthOf(scope, m).hasNode)) return undefined;
  for (const name of unhostedMembers(scope)) {
    const rest = scope.members.filter((m) => m.name !== name);
    const projection = projectEtcdCluster(rest);
    if (projection.voting > 0 && projection.healthy >= projection.quorum) return name;
  }
  return undefined;
}

const memberNames = (scope: ControlPlaneScope): string =>
  (scope.observed.etcd?.members ?? [])
    .map((m) => m.name || '(unstarted)')
    .sort()
    .join(', ') || 'none';

/** Status writes for the control-plane machines whose EtcdMemberHealthy changed (coalesced with the Machine planner's). */
export function machineEtcdConditionWrites(scope: ControlPlaneScope): Write[] {
  const writes: Write[] = [];
  for (const machine of scope.machines) {
    const condition = machineEtcdCondition(scope, machine);
    if (!condition) continue;
    const old = machine.status ?? {};
    const conditions = setConditions(old.conditions, [condition], scope.now, machine.metadata.generation);
    writes.push(...statusWrite(machine, { ...old, conditions }));
  }
  return writes;
}

/**
 * etcd read and its voting members without a healthy quorum: no member can be added or removed (both need a
 * quorum), so nothing clusterless can do brings it back; only a restore of etcd from a snapshot does. Undefined
 * while the quorum holds (or the host reads no etcd).
 */
export function quorumLost(scope: ControlPlaneScope): string | undefined {
  const etcd = scope.observed.etcd;
  if (!etcd || etcd.error !== undefined || !scope.cp.status?.initialized) return undefined;
  const voting = projectEtcdCluster(scope.members.filter((m) => !m.learner && m.name !== ''));
  if (voting.voting === 0 || voting.healthy >= voting.quorum) return undefined;
  return `etcd has lost its quorum (${voting.healthy} healthy member(s) of ${voting.voting}, quorum is ${voting.quorum}): no member can be added or removed until etcd is restored from a snapshot`;
}
