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
export function instanceOf(machine: Machine, observed: Observed, lookup?: ObservedLookup): InstanceFact | undefined {
  const uid = machine.metadata.uid;
  const providerID = machine.spec.providerID;
  if (lookup) {
    // The instances either way finds, in the observed order (the order pick keeps between equals).
    const byUid = uid !== undefined ? lookup.instancesAt(uid, 'machineUid') : NONE;
    const byProviderID = providerID !== undefined ? lookup.instancesAt(providerID, 'providerID') : NONE;
    return pick(union(byUid, byProviderID).map((at) => observed.instances[at]!));
  }
  return pick(observed.instances.filter((i) => (uid !== undefined && i.machineUid === uid) || (providerID !== undefined && i.providerID === providerID)));
}

const NONE: readonly number[] = [];

/** Two ascending lists of positions as one, ascending, each position once. */
function union(a: readonly number[], b: readonly number[]): readonly number[] {
  if (b.length === 0) return a;
  if (a.length === 0) return b;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Number.POSITIVE_INFINITY;
    const y = j < b.length ? b[j]! : Number.POSITIVE_INFINITY;
    if (x <= y) i++;
    if (y <= x) j++;
    out.push(Math.min(x, y));
  }
  return out;
}

/** One answer of an ObservedLookup: the positions `instancesAt` gave, or the position `nodeAt` gave (-1: none). */
export type LookupRead =
  | { node: false; field: 'machineUid' | 'providerID'; value: string; at: readonly number[] }
  | { node: true; field: 'providerID' | 'name'; value: string; at: number };

/**
 * The observed instances and nodes by the keys the Machine planner looks them up by, built once for a pass over
 * every machine (planMachines): a search of every instance and node per machine made that pass quadratic (800 ms
 * at 5,000 machines: BENCHMARKS.md plan-50k). Each answer is what the search finds: the same elements, in the
 * observed order. Pure data over one Observed; the maps are built on first use.
 */
export class ObservedLookup {
  private instances = new Map<'machineUid' | 'providerID', Map<string, number[]>>();
  private nodesBy: { providerID: Map<string, number>; name: Map<string, number> } | undefined;
  /** When set, every answer is recorded here, in the order asked (plan-memo.ts: what a machine's plan read). */
  reads: LookupRead[] | undefined;

  constructor(readonly observed: Observed) {}

  /**
   * A lookup over `observed` that shares the maps of `previous`: valid only when `observed` lists, position by
   * position, facts with the same keys (machineUid, providerID, name) as previous.observed (plan-memo.ts checks it).
   */
  static carried(previous: ObservedLookup, observed: Observed): ObservedLookup {
    const lookup = new ObservedLookup(observed);
    lookup.instances = previous.instances;
    lookup.nodesBy = previous.nodesBy;
    return lookup;
  }

  /** Positions in observed.instances of the instances whose `field` is `value`, ascending. */
  instancesAt(value: string, field: 'machineUid' | 'providerID'): readonly number[] {
    let byValue = this.instances.get(field);
    if (!byValue) {
      byValue = new Map();
      const list = this.observed.instances;
      for (let i = 0; i < list.length; i++) {
        const key = list[i]![field];
        const at = byValue.get(key);
        if (at) at.push(i);
        else byValue.set(key, [i]);
      }
      this.instances.set(field, byValue);
    }
    const at = byValue.get(value) ?? NONE;
    this.reads?.push({ node: false, field, value, at });
    return at;
  }

  /** The first node in observed.nodes whose `field` is `value` (as find gives it); -1 for none. */
  nodeAt(value: string, field: 'providerID' | 'name'): number {
    if (!this.nodesBy) {
      const providerID = new Map<string, number>();
      const name = new Map<string, number>();
      const list = this.observed.nodes ?? [];
      for (let i = 0; i < list.length; i++) {
        const n = list[i]!;
        if (n.providerID !== undefined && !providerID.has(n.providerID)) providerID.set(n.providerID, i);
        if (!name.has(n.name)) name.set(n.name, i);
      }
      this.nodesBy = { providerID, name };
    }
    const at = this.nodesBy[field].get(value) ?? -1;
    this.reads?.push({ node: true, field, value, at });
    return at;
  }

  node(value: string, field: 'providerID' | 'name'): NodeFact | undefined {
    const at = this.nodeAt(value, field);
    return at >= 0 ? this.observed.nodes![at] : undefined;
  }
}

/**
 * The machine's own instances: those the provider found tagged with its uid (in its cluster and installation).
 * Note: never by spec.providerID or anything in status, which any writer of the Machine can set: a forged
 * providerID or nodeRef must not make the machine's deletion drain or terminate another machine's node.
 */
export function ownInstancesOf(machine: Machine, observed: Observed, lookup?: ObservedLookup): InstanceFact[] {
  const uid = machine.metadata.uid;
  if (uid === undefined) return [];
  if (lookup) return lookup.instancesAt(uid, 'machineUid').map((at) => observed.instances[at]!);
  return observed.instances.filter((i) => i.machineUid === uid);
}

/** The machine's own instance (ownInstancesOf), the live one first, then the newest. */
export function ownInstanceOf(machine: Machine, observed: Observed, lookup?: ObservedLookup): InstanceFact | undefined {
  return pick(ownInstancesOf(machine, observed, lookup));
}

/**
 * The node of one of the machine's own instances (by providerID), if the workload cluster could be read. Unlike
 * nodeOf, never the node a nodeRef or spec.providerID names.
 */
export function ownNodeOf(machine: Machine, observed: Observed, lookup?: ObservedLookup): NodeLookup {
  if (observed.nodes === undefined) return { known: false };
  let node: NodeFact | undefined;
  if (lookup) {
    // The first node (in the observed order) on any of the machine's own instances.
    let first = -1;
    for (const instance of ownInstancesOf(machine, observed, lookup)) {
      const at = lookup.nodeAt(instance.providerID, 'providerID');
      if (at >= 0 && (first < 0 || at < first)) first = at;
    }
    node = first >= 0 ? observed.nodes[first] : undefined;
  } else {
    const providerIDs = new Set(ownInstancesOf(machine, observed).map((i) => i.providerID));
    node = observed.nodes.find((n) => n.providerID !== undefined && providerIDs.has(n.providerID));
  }
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

export function nodeOf(machine: Machine, observed: Observed, instance = instanceOf(machine, observed), lookup?: ObservedLookup): NodeLookup {
  if (observed.nodes === undefined) return { known: false };
  const providerID = machine.spec.providerID ?? instance?.providerID;
  const nodeName = machine.status?.nodeRef?.name;
  const node = lookup
    ? ((providerID !== undefined ? lookup.node(providerID, 'providerID') : undefined) ?? (nodeName !== undefined ? lookup.node(nodeName, 'name') : undefined))
    : ((providerID !== undefined ? observed.nodes.find((n) => n.providerID === providerID) : undefined) ??
      (nodeName !== undefined ? observed.nodes.find((n) => n.name === nodeName) : undefined));
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
export function etcdMemberNameOf(machine: Machine, observed: Observed, lookup?: ObservedLookup): string | undefined {
  const own = ownNodeOf(machine, observed, lookup);
  if (own.node) return own.node.name;
  const recorded = machine.status?.nodeRef?.name;
  if (recorded === undefined || observed.nodes === undefined) return undefined;
  const present = lookup ? lookup.nodeAt(recorded, 'name') >= 0 : observed.nodes.some((n) => n.name === recorded);
  return present ? undefined : recorded;
}

/** What etcd says of a control-plane machine's member. */
export type MachineEtcdMember =
  /** The cluster's provider runs no etcd the host reads (the simulator): nothing is known. */
  | { read: 'none' }
  /** No member answered. */
  | { read: 'failed'; message: string }
  /** etcd was read: the member's name if the machine has one yet, and the member if etcd lists it. */
  | { read: 'ok'; name?: string; member?: EtcdMemberFact };

export function etcdMemberOf(machine: Machine, observed: Observed, lookup?: ObservedLookup): MachineEtcdMember {
  const etcd = observed.etcd;
  if (!etcd) return { read: 'none' };
  if (etcd.error !== undefined) return { read: 'failed', message: etcd.error };
  const name = etcdMemberNameOf(machine, observed, lookup);
  const member = name === undefined ? undefined : etcd.members.find((m) => m.name === name);
  return { read: 'ok', ...(name !== undefined ? { name } : {}), ...(member ? { member } : {}) };
}
