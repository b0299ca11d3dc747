/**
 * EtcdMembership over etcd's own API: the members, their health and alarms, leadership moves and member removal,
 * read and done the way Cluster API's KubeadmControlPlane does them (controlplane/kubeadm/internal/
 * workload_cluster_etcd.go: RemoveEtcdMember, ForwardEtcdLeadership; workload_cluster_conditions.go:
 * getCurrentEtcdMembersAndAlarms; etcd_client_generator.go: forFirstAvailableNode, forLeader), reaching the members
 * directly at their client URLs instead of through a port-forward to the etcd pod.
 *
 * A host builds it with the client URLs of a cluster's control-plane instances (`instanceClientUrls` on AWS) and
 * the credentials ClusterCa issues (`etcdClientCredentials`; when it has none, credentialsOf throws an
 * EtcdUnavailableError).
 */
import type { EtcdFact, EtcdMemberFact, InstanceFact } from '../../core/observed.js';
import { type EtcdMembership, type EtcdTarget, EtcdUnavailableError } from '../../ports.js';
import { EtcdApiError, EtcdClient, type EtcdCredentials, type EtcdMember, type EtcdStatus, GrpcCode, isUnavailable } from './client.js';

/** kubeadm's etcd client port (cmd/kubeadm/app/constants EtcdListenClientPort). */
export const ETCD_CLIENT_PORT = 2379;

/** The client URL of the stacked etcd member on each running instance: `https://{InternalIP}:2379`. */
export function instanceClientUrls(instances: InstanceFact[], port = ETCD_CLIENT_PORT): string[] {
  return instances.flatMap((i) => {
    const ip = i.state === 'running' ? i.addresses?.find((a) => a.type === 'InternalIP')?.address : undefined;
    return ip ? [`https://${ip.includes(':') ? `[${ip}]` : ip}:${port}`] : [];
  });
}

export interface EtcdMembershipOptions {
  /** The client URLs of the cluster's etcd members, as this host reaches them; none when it runs no etcd it can reach. */
  endpointsOf(target: EtcdTarget): string[];
  /** The etcd CA and a client certificate it signed (ClusterCa.etcdClientCredentials). */
  credentialsOf(target: EtcdTarget): Promise<EtcdCredentials>;
  /** How long a call may take (member list, alarms, leadership move, removal). @default 5000 */
  timeoutMs?: number;
  /** How long each member's status call may take: a member that takes longer reads unhealthy. @default 2000 */
  statusTimeoutMs?: number;
}

/** A member as one read saw it: listed, and what its own status call said (undefined when it did not answer). */
export interface ObservedMember {
  member: EtcdMember;
  status?: EtcdStatus;
  /** Why the status call failed. */
  error?: string;
  alarms: string[];
}

/** How etcd writes an alarm into every member's status errors (the text of its AlarmMember message). */
const ALARM_ERROR = /^memberID:\d+ alarm:[A-Z]+\s*$/;

/**
 * Healthy as KCP judges a member (workload_cluster_conditions.go): its status answered, it reports no errors, knows
 * a leader, has no alarm. Note: etcd copies every alarm of the cluster into every member's status errors, so KCP
 * reads one member's NOSPACE as all members unhealthy; here an alarm counts against the member it names only (the
 * alarm list says which), so that the planner can still tell which machine holds the broken member.
 */
export function memberHealth(m: ObservedMember): { healthy: boolean; message?: string } {
  if (m.member.clientURLs.length === 0) return { healthy: false, message: 'the member has not started' };
  if (!m.status) return { healthy: false, message: `the member did not answer: ${m.error ?? 'no status'}` };
  if (m.alarms.length > 0) return { healthy: false, message: `alarms raised on the member: ${m.alarms.join(', ')}` };
  const errors = m.status.errors.filter((e) => !ALARM_ERROR.test(e));
  if (errors.length > 0) return { healthy: false, message: `the member reports errors: ${errors.join(', ')}` };
  if (m.status.leaderId === '0') return { healthy: false, message: 'the member knows no leader' };
  return { healthy: true };
}

/** The leader, as the members that answered report it: the one named in the newest raft term. */
export function leaderOf(members: ObservedMember[]): string | undefined {
  let best: EtcdStatus | undefined;
  for (const { status } of members) if (status && status.leaderId !== '0' && (!best || BigInt(status.raftTerm) > BigInt(best.raftTerm))) best = status;
  return best?.leaderId;
}

/**
 * Who takes leadership from `leaving`: a healthy voting member (never a learner, which cannot lead) other than
 * it, the one with the highest raft index (the most of the log already), then by name so that the choice is the
 * same on every try. KCP's ForwardEtcdLeadership moves it to a machine with an up-to-date spec; here the planner
 * does not name one, and any healthy voter will do.
 */
export function leadershipCandidate(members: ObservedMember[], leaving: string): ObservedMember | undefined {
  const candidates = members.filter((m) => m.member.id !== leaving && !m.member.learner && memberHealth(m).healthy);
  candidates.sort((a, b) => {
    const d = BigInt(b.status!.raftIndex) - BigInt(a.status!.raftIndex);
    return d !== 0n ? (d > 0n ? 1 : -1) : a.member.name.localeCompare(b.member.name);
  });
  return candidates[0];
}

export class EtcdMembershipOverClient implements EtcdMembership {
  private readonly timeoutMs: number;
  private readonly statusTimeoutMs: number;

  constructor(private readonly options: EtcdMembershipOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.statusTimeoutMs = options.statusTimeoutMs ?? 2000;
  }

  async read(target: EtcdTarget): Promise<EtcdFact | undefined> {
    const endpoints = this.options.endpointsOf(target);
    if (endpoints.length === 0) return undefined;
    return this.withClient(target, endpoints, async (client) => {
      const members = await this.observe(client);
      const leader = leaderOf(members);
      return {
        members: members.map((m): EtcdMemberFact => {
          const { healthy, message } = memberHealth(m);
          return {
            id: m.member.id,
            name: m.member.name,
            learner: m.member.learner,
            healthy,
            leader: m.member.id === leader,
            alarms: m.alarms,
            ...(message ? { message } : {}),
          };
        }),
      };
    });
  }

  async forwardLeadership(target: EtcdTarget, memberName: string): Promise<void> {
    const endpoints = this.options.endpointsOf(target);
    if (endpoints.length === 0) return;
    await this.withClient(target, endpoints, async (client) => {
      const members = await this.observe(client);
      const leaving = memberName ? members.find((m) => m.member.name === memberName) : undefined;
      // Nothing to do for a member that is not there or does not lead.
      if (!leaving || leaving.member.id !== leaderOf(members)) return;
      const next = leadershipCandidate(members, leaving.member.id);
      if (!next) throw new EtcdUnavailableError(`no healthy voting etcd member can take leadership from ${memberName}`);
      // etcd takes a leadership move only from the leader; it answered its status, so its client URL answers.
      await client.moveLeader(next.member.id, leaving.member.clientURLs[0]);
    });
  }

  /**
   * Removes the named member. It does not check that the members left keep quorum: as in KCP (RemoveEtcdMember),
   * that is the caller's rule (the control-plane planner), and etcd itself refuses a removal that would leave too
   * few started members (--strict-reconfig-check, on by default).
   */
  async removeMember(target: EtcdTarget, memberName: string): Promise<void> {
    const endpoints = this.options.endpointsOf(target);
    // No member has an empty name but one not started yet, which this port cannot tell from another.
    if (endpoints.length === 0 || !memberName) return;
    await this.withClient(target, endpoints, async (client) => {
      const { members } = await client.memberList();
      const member = members.find((m) => m.name === memberName);
      if (!member) return;
      if (members.length === 1) throw new EtcdUnavailableError(`refusing to remove ${memberName}, the last etcd member`);
      // Ask the others first, as KCP leaves the node being removed out of its client: the member may be what fails.
      const own = new Set(member.clientURLs);
      const order = [...endpoints.filter((e) => !own.has(e)), ...endpoints.filter((e) => own.has(e))];
      let last: unknown;
      for (const endpoint of order) {
        try {
          await client.memberRemove(member.id, endpoint);
          return;
        } catch (err) {
          // Removed already, by an earlier try whose answer was lost.
          if (err instanceof EtcdApiError && err.code === GrpcCode.NotFound) return;
          if (!isUnavailable(err)) throw err;
          last = err;
        }
      }
      throw last;
    });
  }

  /** Member list and alarms from the first endpoint that answers, then every member's status in parallel. */
  private async observe(client: EtcdClient): Promise<ObservedMember[]> {
    const list = await client.memberList();
    const alarms = await client.alarms();
    return Promise.all(
      list.members.map(async (member): Promise<ObservedMember> => {
        const raised = alarms.filter((a) => a.memberId === member.id).map((a) => a.alarm);
        const endpoint = member.clientURLs[0];
        if (!endpoint) return { member, alarms: raised };
        try {
          return { member, status: await client.status(endpoint, this.statusTimeoutMs), alarms: raised };
        } catch (err) {
          return { member, error: (err as Error).message, alarms: raised };
        }
      }),
    );
  }

  /** A client for one operation, closed after; anything etcd-side that fails is an EtcdUnavailableError. */
  private async withClient<T>(target: EtcdTarget, endpoints: string[], use: (client: EtcdClient) => Promise<T>): Promise<T> {
    const client = new EtcdClient({ endpoints, credentials: await this.options.credentialsOf(target), timeoutMs: this.timeoutMs });
    try {
      return await use(client);
    } catch (err) {
      if (err instanceof EtcdUnavailableError) throw err;
      if (err instanceof EtcdApiError) throw new EtcdUnavailableError(`etcd of ${target.namespace}/${target.clusterName}: ${err.message}`, { cause: err });
      throw err;
    } finally {
      client.close();
    }
  }
}
