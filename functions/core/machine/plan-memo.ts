/**
 * The Machine planner's memo: each machine's plan at the cluster's last reconcile and what that plan read, so that
 * planMachines plans again only the machines whose inputs changed (at 50,000 machines, rebuilding every machine's
 * conditions and status on every reconcile took 370 ms: BENCHMARKS.md plan-50k). The caller keeps it between
 * reconciles (workflows/reconcile-cluster.ts keeps one per cluster, beside the machine index's IndexMemo); only
 * planMachines changes it. Pure data: core reads no clock and does no I/O for it.
 *
 * A machine's last plan is reused only when everything planMachine read for it is the same:
 * - the Machine: the same object, or the same uid and resourceVersion (the store gives every write a new
 *   resourceVersion, so an unchanged Machine read afresh still hits);
 * - what it reads of the cluster (the context key planMachines builds: paused, deleting, infrastructureReady,
 *   ControlPlaneInitialized, the control plane deleting, whether the nodes could be read): a change drops every entry;
 * - every answer of the observed lookup it asked (ObservedLookup.reads): the facts found equal and in the same
 *   relative order. When the instances and nodes are listed with the same keys, position by position, as in the last
 *   reconcile (the steady case), the lookup's maps are carried over, each fact equal to the last one's by content is
 *   replaced by the last one's object, and a machine's facts compare by identity (or, for a machine that read one
 *   instance and one node, by the positions whose fact changed). When facts came, went or changed but the others kept
 *   their order (shifted: a machine launched or terminated), a machine none of whose lookup keys such a fact has
 *   finds the same facts at their new positions. Otherwise (reordered lists) its lookups are asked again and the
 *   facts compared by content;
 * - `now`: only plans that do not read the clock are kept: no write (a status write carries now's timestamps:
 *   lastTransitionTime, lastUpdated, the deletion start times), no requeue, the machine not deleting (the deletion
 *   flow reads now for its timeouts, retries and drain time left; etcd is read only there). Such a plan is the same
 *   at any time: setConditions reads now only for a condition that changes, and a changed condition is a write.
 * Every entry was checked or made by the last reconcile (the others are dropped), so positions recorded in it
 * refer to the last reconcile's lists.
 */
import type { Machine } from '../../api/machine.js';
import { isDeleting } from '../cluster/objects.js';
import type { InstanceFact, NodeCondition, NodeFact, Observed } from '../observed.js';
import type { Plan } from '../plan.js';
import { sameJson } from '../same-json.js';
import { ObservedLookup, type LookupRead } from './facts.js';

interface Entry {
  machine: Machine;
  /** The machine's uid and resourceVersion, kept apart: compared for every machine of every reconcile. */
  uid: string | undefined;
  resourceVersion: string | undefined;
  reads: LookupRead[];
  /** What each read found: the instances at its positions, or the node at its position (undefined for none). */
  facts: (readonly InstanceFact[] | NodeFact | undefined)[];
  /** The same as flat lists, for the check while the lists keep their keys: each position read and the fact there. */
  instanceAt: number[];
  instances: InstanceFact[];
  nodeAt: number[];
  nodes: NodeFact[];
  /**
   * The reads found at most one instance (however often it was read) and one node: their positions (-1: none),
   * checked against the reconcile's list of changed positions alone (the common case: no list is read).
   */
  one: boolean;
  instanceAt0: number;
  nodeAt0: number;
  plan: Plan;
  /** The shift (its id) the positions were last moved by (sameReadsShifted): moved once per pass. */
  movedIn?: number;
}

export class MachinePlanMemo {
  /** The last reconcile's context key: what planMachine reads of the cluster. */
  context: string | undefined;
  /** The last reconcile's instances and nodes, each fact the earliest object seen with its content at its position. */
  instances: readonly InstanceFact[] = [];
  nodes: readonly NodeFact[] | undefined;
  lookup: ObservedLookup | undefined;
  /** The entry of the machine in each place of the last reconcile's machine list (undefined: planned, not kept). */
  slots: (Entry | undefined)[] = [];
  /** This reconcile's entries, by place, as they are checked or made. */
  next: (Entry | undefined)[] = [];
  /** The last reconcile's entries by machine key, made only when a machine is not in its last place. */
  byKey: Map<string, Entry> | undefined;
  /** Of the last reconcile: machines whose last plan was reused, and machines planned. */
  reused = 0;
  planned = 0;
  /** The number of the last pass whose lists shifted (MemoPass.shift.id). */
  shifts = 0;
}

/** One reconcile's view of the memo: the observation to plan with, its lookup, and whether the lists kept their keys. */
export interface MemoPass {
  observed: Observed;
  lookup: ObservedLookup;
  carried: boolean;
  /** When carried: 1 at each position whose fact changed since the last reconcile (undefined: none did). */
  changedInstances?: Uint8Array | undefined;
  changedNodes?: Uint8Array | undefined;
  /** When not carried but the lists only gained, lost or changed facts, in the same order: see shifted. */
  shift?: { id: number; instances: Shift; nodes: Shift | undefined } | undefined;
}

/**
 * How a list moved since the last reconcile, its facts matched by identity (instanceId, node name): where each last
 * position went (-1: gone or changed), and the keys (field by field) of every fact that came, went or changed.
 */
interface Shift {
  from: Int32Array;
  dirty: [Set<string>, Set<string>];
}

/** Prepares `memo` for a reconcile of `observed`; `context` is what planMachine reads of the cluster, as a key. */
export function beginPass(memo: MachinePlanMemo, observed: Observed, context: string, machines: number): MemoPass {
  memo.reused = 0;
  memo.planned = 0;
  memo.byKey = undefined;
  memo.next = new Array(machines);
  if (memo.context !== context) {
    memo.slots = [];
    memo.context = context;
  }
  const canonInstances = memo.lookup ? canonical(memo.instances, observed.instances, compareInstances) : undefined;
  const instances = canonInstances?.list;
  // null: the nodes changed their keys (or became readable, or unreadable).
  let nodes: readonly NodeFact[] | undefined | null = null;
  let canonNodes: ReturnType<typeof canonical<NodeFact>>;
  if (instances && (observed.nodes === undefined) === (memo.nodes === undefined)) {
    canonNodes = observed.nodes === undefined ? undefined : canonical(memo.nodes!, observed.nodes, compareNodes);
    nodes = observed.nodes === undefined ? undefined : (canonNodes?.list ?? null);
  }
  const carried = instances !== undefined && nodes !== null && memo.lookup !== undefined;
  if (!carried && memo.lookup !== undefined && (observed.nodes === undefined) === (memo.nodes === undefined)) {
    // Facts came or went (a machine launched, one terminated): each list matched to the last by identity, in order.
    const shiftedInstances = shifted(memo.instances, observed.instances, instanceIdOf, sameInstance, instanceKeysOf);
    const shiftedNodes = observed.nodes === undefined ? undefined : (shifted(memo.nodes!, observed.nodes, nodeNameOf, sameNode, nodeKeysOf) ?? null);
    if (shiftedInstances && shiftedNodes !== null) {
      const view: Observed = { ...observed, instances: shiftedInstances.list, ...(shiftedNodes ? { nodes: shiftedNodes.list } : {}) };
      const lookup = new ObservedLookup(view);
      memo.instances = view.instances;
      memo.nodes = view.nodes;
      memo.lookup = lookup;
      return { observed: view, lookup, carried: false, shift: { id: ++memo.shifts, instances: shiftedInstances, nodes: shiftedNodes } };
    }
  }
  const view: Observed =
    carried && (instances !== observed.instances || nodes !== observed.nodes)
      ? { ...observed, instances: instances as InstanceFact[], ...(nodes ? { nodes: nodes as NodeFact[] } : {}) }
      : observed;
  const lookup = carried ? ObservedLookup.carried(memo.lookup!, view) : new ObservedLookup(view);
  // Its own copies of the lists (the facts are never changed in place, a caller's list might be).
  memo.instances = carried ? view.instances : view.instances.slice();
  memo.nodes = carried ? view.nodes : view.nodes?.slice();
  memo.lookup = lookup;
  return { observed: view, lookup, carried, changedInstances: canonInstances?.changed, changedNodes: canonNodes?.changed };
}

const instanceIdOf = (i: InstanceFact) => i.instanceId;
const nodeNameOf = (n: NodeFact) => n.name;
const instanceKeysOf = (i: InstanceFact): [string, string | undefined] => [i.machineUid, i.providerID];
const nodeKeysOf = (n: NodeFact): [string, string | undefined] => [n.providerID ?? '', n.name];

/**
 * `current` matched to `last` by identity (`idOf`; the unchanged head and tail by place, the rest by a map): each
 * fact equal by content to its match replaced by that one, where each last position went, and the keys of the facts
 * that came, went or changed. Any one-to-one matching of equal facts in the same order would do: the identity only
 * finds one. Undefined (nothing can be said without asking again) when the matched facts are not in the same order.
 */
function shifted<T>(
  last: readonly T[],
  current: readonly T[],
  idOf: (t: T) => string,
  same: (a: T, b: T) => boolean,
  keysOf: (t: T) => [string, string | undefined],
): (Shift & { list: T[] }) | undefined {
  const from = new Int32Array(last.length).fill(-1);
  const matched = new Uint8Array(current.length);
  const list = current.slice();
  const dirty: [Set<string>, Set<string>] = [new Set(), new Set()];
  const mark = (t: T) => {
    const [a, b] = keysOf(t);
    dirty[0].add(a);
    if (b !== undefined) dirty[1].add(b);
  };
  const pair = (j: number, i: number) => {
    const a = last[j]!;
    const b = current[i]!;
    matched[i] = 1;
    if (a !== b && !same(a, b)) {
      mark(a);
      mark(b);
      return;
    }
    from[j] = i;
    list[i] = a;
  };
  const n = Math.min(last.length, current.length);
  let head = 0;
  while (head < n && idOf(last[head]!) === idOf(current[head]!)) pair(head, head++);
  let tail = 0;
  while (tail < n - head && idOf(last[last.length - 1 - tail]!) === idOf(current[current.length - 1 - tail]!)) {
    pair(last.length - 1 - tail, current.length - 1 - tail);
    tail++;
  }
  const at = new Map<string, number>();
  for (let i = head; i < current.length - tail; i++) {
    const id = idOf(current[i]!);
    if (!at.has(id)) at.set(id, i);
  }
  let previous = -1;
  for (let j = head; j < last.length - tail; j++) {
    const i = at.get(idOf(last[j]!));
    if (i === undefined || matched[i] === 1) {
      mark(last[j]!);
      continue;
    }
    pair(j, i);
    if (from[j]! < 0) continue;
    if (i < previous) return undefined;
    previous = i;
  }
  for (let i = 0; i < current.length; i++) if (matched[i] === 0) mark(current[i]!);
  return { from, dirty, list };
}

/** How two facts at one position compare: the same content, the same keys but other content, or other keys. */
const SAME = 0;
const CHANGED = 1;
const REKEYED = 2;

/**
 * `current` with each fact equal by content to the one at its position in `last` replaced by that one (`last`
 * itself when that is every fact), and the positions where it is not; undefined when the lists differ in length or
 * in some fact's keys (then the lookup's maps no longer hold). `compare` answers SAME, CHANGED or REKEYED in one
 * look at the two facts: called for every instance and node of every reconcile, it reads each field once.
 */
function canonical<T>(
  last: readonly T[],
  current: readonly T[],
  compare: (a: T, b: T) => number,
): { list: readonly T[]; changed: Uint8Array | undefined } | undefined {
  if (last.length !== current.length) return undefined;
  let out: T[] | undefined;
  let changed: Uint8Array | undefined;
  for (let i = 0; i < current.length; i++) {
    const a = last[i]!;
    const b = current[i]!;
    if (a === b) continue;
    const c = compare(a, b);
    if (c === SAME) continue;
    if (c === REKEYED) return undefined;
    out ??= last.slice();
    changed ??= new Uint8Array(current.length);
    out[i] = b;
    changed[i] = 1;
  }
  return { list: out ?? last, changed };
}

/** The lookup's keys of an instance (machineUid, providerID) first, then the rest of sameInstance. */
const compareInstances = (a: InstanceFact, b: InstanceFact) =>
  a.machineUid !== b.machineUid || a.providerID !== b.providerID ? REKEYED : sameInstanceBeyondKeys(a, b) ? SAME : CHANGED;
/** The lookup's keys of a node (name, providerID) first, then the rest of sameNode. */
const compareNodes = (a: NodeFact, b: NodeFact) => (a.name !== b.name || a.providerID !== b.providerID ? REKEYED : sameNodeBeyondKeys(a, b) ? SAME : CHANGED);

/**
 * The plan of every kept entry whose machine had nothing to do (no write, action, note or requeue: the steady case):
 * one frozen object, which planMachines knows to skip rather than read 50,000 plans of empty lists back.
 */
export const NOTHING_TO_DO: Plan = Object.freeze({ writes: Object.freeze([]), actions: Object.freeze([]), notes: Object.freeze([]) }) as unknown as Plan;

const keyOf = (machine: Machine) => machine.metadata.uid ?? `\0${machine.metadata.name}`;

/** The last plan of the machine in place `slot`, when nothing it read has changed; undefined when it must be planned. */
export function reusedPlan(memo: MachinePlanMemo, machine: Machine, slot: number, pass: MemoPass): Plan | undefined {
  let entry = memo.slots[slot];
  if (entry === undefined || !sameMachine(entry, machine)) {
    // Not in its last place (machines came or went before it): found by its key.
    if (memo.byKey === undefined) {
      memo.byKey = new Map();
      for (const e of memo.slots) if (e) memo.byKey.set(keyOf(e.machine), e);
    }
    entry = memo.byKey.get(keyOf(machine));
    if (entry === undefined || !sameMachine(entry, machine)) return undefined;
  }
  if (!(pass.carried ? sameReadsInPlace(entry, pass) : pass.shift ? sameReadsShifted(entry, pass) : sameReadsAsked(entry, pass))) return undefined;
  memo.next[slot] = entry;
  memo.reused++;
  return entry.plan;
}

function sameMachine(entry: Entry, machine: Machine): boolean {
  if (entry.machine === machine) return true;
  const { uid, resourceVersion } = machine.metadata;
  return uid !== undefined && resourceVersion !== undefined && entry.uid === uid && entry.resourceVersion === resourceVersion;
}

/** The lists kept their keys: every read finds the same positions; the facts there are the last ones' objects if equal. */
function sameReadsInPlace(entry: Entry, pass: MemoPass): boolean {
  if (entry.one)
    return (
      (entry.instanceAt0 < 0 || pass.changedInstances === undefined || pass.changedInstances[entry.instanceAt0] === 0) &&
      (entry.nodeAt0 < 0 || pass.changedNodes === undefined || pass.changedNodes[entry.nodeAt0] === 0)
    );
  const observed = pass.observed;
  const { instanceAt, instances, nodeAt, nodes } = entry;
  for (let i = 0; i < instanceAt.length; i++) if (observed.instances[instanceAt[i]!] !== instances[i]) return false;
  for (let i = 0; i < nodeAt.length; i++) if (observed.nodes?.[nodeAt[i]!] !== nodes[i]) return false;
  return true;
}

/**
 * The lists gained, lost or changed facts, in the same order (pass.shift): a read whose key no such fact has finds
 * the same facts, at the positions they moved to, in the same order. The entry then records those positions, in
 * place: every machine of a cluster takes this path when one instance launches, and new arrays and reads for each
 * of 50,000 machines took most of such a reconcile (BENCHMARKS.md plan-50k, `--churn`). The entry's reads and
 * position lists are its own (flatten copies what the lookup hands out), and an entry is moved once per pass.
 */
function sameReadsShifted(entry: Entry, pass: MemoPass): boolean {
  const { id, instances, nodes } = pass.shift!;
  if (entry.movedIn === id) return true;
  // First every read checked, nothing changed: an entry that fails is planned again and dropped.
  for (const read of entry.reads) {
    if (read.node) {
      if (nodes === undefined || nodes.dirty[read.field === 'providerID' ? 0 : 1].has(read.value)) return false;
      if (read.at >= 0 && nodes.from[read.at]! < 0) return false;
      continue;
    }
    if (instances.dirty[read.field === 'machineUid' ? 0 : 1].has(read.value)) return false;
    for (let i = 0; i < read.at.length; i++) if (instances.from[read.at[i]!]! < 0) return false;
  }
  // The same facts (the matched ones are the last objects), at their new positions.
  for (const read of entry.reads) {
    if (read.node) {
      if (read.at >= 0) read.at = nodes!.from[read.at]!;
      continue;
    }
    const at = read.at as number[];
    for (let i = 0; i < at.length; i++) at[i] = instances.from[at[i]!]!;
  }
  const { instanceAt, nodeAt } = entry;
  for (let i = 0; i < instanceAt.length; i++) instanceAt[i] = instances.from[instanceAt[i]!]!;
  if (nodes) for (let i = 0; i < nodeAt.length; i++) nodeAt[i] = nodes.from[nodeAt[i]!]!;
  entry.instanceAt0 = instanceAt[0] ?? -1;
  entry.nodeAt0 = nodeAt[0] ?? -1;
  entry.movedIn = id;
  return true;
}

/**
 * The lists changed their keys: each read asked again must find facts equal by content, at positions in the same
 * relative order (the planner compares positions: the union of two instance reads, the first of several nodes).
 * The entry then records the new answers.
 */
function sameReadsAsked(entry: Entry, pass: MemoPass): boolean {
  const { lookup, observed } = pass;
  const reads: LookupRead[] = [];
  const lastInstances: number[] = [];
  const nowInstances: number[] = [];
  const lastNodes: number[] = [];
  const nowNodes: number[] = [];
  for (let i = 0; i < entry.reads.length; i++) {
    const read = entry.reads[i]!;
    if (read.node) {
      const at = lookup.nodeAt(read.value, read.field);
      if (at < 0 !== read.at < 0) return false;
      const node = at >= 0 ? observed.nodes?.[at] : undefined;
      if (at >= 0 && !sameNode(node!, entry.facts[i] as NodeFact)) return false;
      if (at >= 0) {
        lastNodes.push(read.at);
        nowNodes.push(at);
      }
      reads.push({ ...read, at });
      continue;
    }
    const at = lookup.instancesAt(read.value, read.field);
    const last = entry.facts[i] as readonly InstanceFact[];
    if (at.length !== last.length) return false;
    const found = at.map((p) => observed.instances[p]!);
    for (let j = 0; j < at.length; j++) if (!sameInstance(found[j]!, last[j]!)) return false;
    lastInstances.push(...read.at);
    nowInstances.push(...at);
    reads.push({ ...read, at });
  }
  if (!sameOrder(lastInstances, nowInstances) || !sameOrder(lastNodes, nowNodes)) return false;
  Object.assign(entry, flatten(reads, observed));
  return true;
}

/** Every two positions compare alike in both lists (a handful per machine). */
function sameOrder(last: readonly number[], now: readonly number[]): boolean {
  for (let i = 0; i < last.length; i++)
    for (let j = i + 1; j < last.length; j++) if (Math.sign(last[i]! - last[j]!) !== Math.sign(now[i]! - now[j]!)) return false;
  return true;
}

/** The reads with what they found, as an entry keeps them. */
type Reads = Pick<Entry, 'reads' | 'facts' | 'instanceAt' | 'instances' | 'nodeAt' | 'nodes' | 'one' | 'instanceAt0' | 'nodeAt0'>;

function flatten(reads: LookupRead[], observed: Observed): Reads {
  const out: Reads = { reads, facts: [], instanceAt: [], instances: [], nodeAt: [], nodes: [], one: true, instanceAt0: -1, nodeAt0: -1 };
  for (let i = 0; i < reads.length; i++) {
    const read = reads[i]!;
    if (read.node) {
      const node = read.at >= 0 ? observed.nodes?.[read.at] : undefined;
      out.facts.push(node);
      if (node) {
        out.nodeAt.push(read.at);
        out.nodes.push(node);
      }
      continue;
    }
    // The entry's own positions: the lookup's array is shared with its map, and sameReadsShifted moves them in place.
    const at = read.at.slice();
    reads[i] = { ...read, at };
    const found = at.map((p) => observed.instances[p]!);
    out.facts.push(found);
    out.instanceAt.push(...at);
    out.instances.push(...found);
  }
  out.instanceAt0 = out.instanceAt[0] ?? -1;
  out.nodeAt0 = out.nodeAt[0] ?? -1;
  // At most one distinct position of each: every read found the first one's.
  out.one = out.instanceAt.every((p) => p === out.instanceAt0) && out.nodeAt.every((p) => p === out.nodeAt0);
  return out;
}

/**
 * Records the plan just made for the machine in place `slot` from `reads`, if it does not read the clock (see the
 * file's comment).
 */
export function remember(memo: MachinePlanMemo, machine: Machine, slot: number, reads: LookupRead[], plan: Plan, pass: MemoPass): void {
  memo.planned++;
  if (isDeleting(machine) || plan.writes.length > 0 || plan.requeueAfterSeconds !== undefined) return;
  const { uid, resourceVersion } = machine.metadata;
  const kept = plan.actions.length === 0 && plan.notes.length === 0 ? NOTHING_TO_DO : plan;
  memo.next[slot] = { machine, uid, resourceVersion, ...flatten(reads, pass.observed), plan: kept };
}

/** Ends the reconcile: its entries are the ones the next reconcile checks (those of machines now gone are dropped). */
export function endPass(memo: MachinePlanMemo): void {
  memo.slots = memo.next;
  memo.next = [];
  memo.byKey = undefined;
}

/** Every field of a type, listed: `exhaustive` fails to compile when the type gains a field the list lacks. */
type Exhaustive<T, L extends readonly (keyof T)[]> = [Exclude<keyof T, L[number]>] extends [never] ? true : never;
const INSTANCE_FIELDS = [
  'machineUid',
  'instanceId',
  'providerID',
  'state',
  'availabilityZone',
  'instanceType',
  'capacityType',
  'launchTime',
  'addresses',
] as const;
const NODE_FIELDS = ['name', 'uid', 'providerID', 'conditions', 'unschedulable', 'kubeletVersion', 'labels', 'labelsFromMachine', 'volumesAttached'] as const;
const CONDITION_FIELDS = ['type', 'status', 'lastTransitionTime', 'reason', 'message'] as const;
const exhaustive: [
  Exhaustive<InstanceFact, typeof INSTANCE_FIELDS>,
  Exhaustive<NodeFact, typeof NODE_FIELDS>,
  Exhaustive<NodeCondition, typeof CONDITION_FIELDS>,
] = [true, true, true];
void exhaustive;

/**
 * sameJson for two instances, field by field (every field InstanceFact declares, the list above checked by the
 * compiler: the planner reads no other): the fast way, called for every instance of every reconcile.
 */
export function sameInstance(a: InstanceFact, b: InstanceFact): boolean {
  return a.machineUid === b.machineUid && a.providerID === b.providerID && sameInstanceBeyondKeys(a, b);
}

/** sameInstance of two instances whose machineUid and providerID are the same. */
function sameInstanceBeyondKeys(a: InstanceFact, b: InstanceFact): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.state === b.state &&
    a.availabilityZone === b.availabilityZone &&
    a.instanceType === b.instanceType &&
    a.capacityType === b.capacityType &&
    a.launchTime === b.launchTime &&
    (a.addresses === b.addresses || sameJson(a.addresses, b.addresses))
  );
}

/** sameJson for two nodes, field by field, as sameInstance. */
export function sameNode(a: NodeFact, b: NodeFact): boolean {
  return a.name === b.name && a.providerID === b.providerID && sameNodeBeyondKeys(a, b);
}

/** sameNode of two nodes whose name and providerID are the same. */
function sameNodeBeyondKeys(a: NodeFact, b: NodeFact): boolean {
  if (
    a.uid !== b.uid ||
    a.unschedulable !== b.unschedulable ||
    a.kubeletVersion !== b.kubeletVersion ||
    a.labelsFromMachine !== b.labelsFromMachine ||
    (a.labels !== b.labels && !sameJson(a.labels, b.labels)) ||
    (a.volumesAttached !== b.volumesAttached && !sameJson(a.volumesAttached, b.volumesAttached))
  )
    return false;
  const x = a.conditions;
  const y = b.conditions;
  if (x === y) return true;
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const c = x[i]!;
    const d = y[i]!;
    if (c.type !== d.type || c.status !== d.status || c.lastTransitionTime !== d.lastTransitionTime || c.reason !== d.reason || c.message !== d.message)
      return false;
  }
  return true;
}
