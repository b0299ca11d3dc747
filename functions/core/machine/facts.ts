/**
 * What the world says about one Machine: its instance (found by the machine-uid tag) and its node (found by
 * providerID, as Cluster API's machine controller finds it: core/reconcilers/machine/
 * machine_controller_noderef.go, getNode by the providerID index).
 */
import { Annotations } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import type { EtcdMemberFact, InstanceFact, InstanceState, NodeCondition, NodeFact, Observed } from '../observed.js';

/** Instance states after which the instance will never run again. */
export const GONE_STATES: readonly InstanceState[] = ['shutting-down', 'terminated'];

export function isInstanceGone(instance: InstanceFact | undefined): boolean {
  return instance === undefined || GONE_STATES.includes(instance.state);
}

/**
 * The instance launched for the machine. Should a retried launch ever have left two (the provider adopts by
 * uid tag, so it should not), the live one wins over a terminated one, then the newest.
 */
export function instanceOf(machine: Machine, observed: Observed): InstanceFact | undefined {
  const uid = machine.metadata.uid;
  return pick(
    observed.instances.filter(
      (i) => (uid !== undefined && i.machineUid === uid) || (machine.spec.providerID !== undefined && i.providerID === machine.spec.providerID),
    ),
  );
}

/**
 * The machine's own instances: those the provider found tagged with its uid (in its cluster and installation).
 * Note: never by spec.providerID or anything in status, which any writer of the Machine can set: a forged
 * providerID or nodeRef must not make the machine's deletion drain or terminate another machine's node.
 */
export function ownInstancesOf(machine: Machine, observed: Observed): InstanceFact[] {
  const uid = machine.metadata.uid;
  return uid === undefined ? [] : observed.instances.filter((i) => i.machineUid === uid);
}

/** The machine's own instance (ownInstancesOf), the live one first, then the newest. */
export function ownInstanceOf(machine: Machine, observed: Observed): InstanceFact | undefined {
  return pick(ownInstancesOf(machine, observed));
}

/**
 * The node of one of the machine's own instances (by providerID), if the workload cluster could be read. Unlike
 * nodeOf, never the node a nodeRef or spec.providerID names.
 */
export function ownNodeOf(machine: Machine, observed: Observed): NodeLookup {
  if (observed.nodes === undefined) return { known: false };
  const providerIDs = new Set(ownInstancesOf(machine, observed).map((i) => i.providerID));
  const node = observed.nodes.find((n) => n.providerID !== undefined && providerIDs.has(n.providerID));
  return node ? { known: true, node } : { known: true };
}

function pick(candidates: InstanceFact[]): InstanceFact | undefined {
  if (candidates.length <= 1) return candidates[0];
  return [...candidates].sort(
    (a, b) => Number(GONE_STATES.includes(a.state)) - Number(GONE_STATES.includes(b.state)) || (b.launchTime ?? '').localeCompare(a.launchTime ?? ''),
  )[0];
}

/**
 * The machine's node, if the workload cluster could be read: `known` is false when it could not, and then
 * nothing may be concluded about the node (absence included).
 */
export interface NodeLookup {
  known: boolean;
  node?: NodeFact;
}

export function nodeOf(machine: Machine, observed: Observed, instance = instanceOf(machine, observed)): NodeLookup {
  if (observed.nodes === undefined) return { known: false };
  const providerID = machine.spec.providerID ?? instance?.providerID;
  const nodeName = machine.status?.nodeRef?.name;
  const node =
    (providerID !== undefined ? observed.nodes.find((n) => n.providerID === providerID) : undefined) ??
    (nodeName !== undefined ? observed.nodes.find((n) => n.name === nodeName) : undefined);
  return node ? { known: true, node } : { known: true };
}

export function nodeCondition(node: NodeFact | undefined, type: string): NodeCondition | undefined {
  return node?.conditions.find((c) => c.type === type);
}

export function isNodeReady(node: NodeFact | undefined): boolean {
  return nodeCondition(node, 'Ready')?.status === 'True';
}

/**
 * The failure domain a machine is in: its pin (spec.failureDomain), else the zone its instance got, else the
 * zone it was spread to (a preference the provider may have left for capacity).
 */
export function failureDomainOf(machine: Machine): string | undefined {
  return machine.spec.failureDomain ?? machine.status?.infrastructure?.availabilityZone ?? machine.metadata.annotations?.[Annotations.preferredFailureDomain];
}

/**
 * The name of a control-plane machine's etcd member: kubeadm names the member after the node. The node of the
 * machine's own instance gives it; once that node is gone (a dead machine's Node is deleted), the nodeRef's name,
 * unless a node of that name is there on an instance that is not the machine's own: a nodeRef any writer of the
 * Machine can set must never name a live member of another machine.
 */
export function etcdMemberNameOf(machine: Machine, observed: Observed): string | undefined {
  const own = ownNodeOf(machine, observed);
  if (own.node) return own.node.name;
  const recorded = machine.status?.nodeRef?.name;
  if (recorded === undefined || observed.nodes === undefined) return undefined;
  return observed.nodes.some((n) => n.name === recorded) ? undefined : recorded;
}

/** What etcd says of a control-plane machine's member. */
export type MachineEtcdMember =
  /** The cluster's provider runs no etcd the host reads (the simulator): nothing is known. */
  | { read: 'none' }
  /** No member answered. */
  | { read: 'failed'; message: string }
  /** etcd was read: the member's name if the machine has one yet, and the member if etcd lists it. */
  | { read: 'ok'; name?: string; member?: EtcdMemberFact };

export function etcdMemberOf(machine: Machine, observed: Observed): MachineEtcdMember {
  const etcd = observed.etcd;
  if (!etcd) return { read: 'none' };
  if (etcd.error !== undefined) return { read: 'failed', message: etcd.error };
  const name = etcdMemberNameOf(machine, observed);
  const member = name === undefined ? undefined : etcd.members.find((m) => m.name === name);
  return { read: 'ok', ...(name !== undefined ? { name } : {}), ...(member ? { member } : {}) };
}
