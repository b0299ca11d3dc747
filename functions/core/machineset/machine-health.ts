/**
 * What the MachineSet and MachineDeployment planners need to know of each Machine: is it going away, is it
 * healthy (for the deletion order), is it Ready and since when (for availability and minReadySeconds).
 *
 * Computed once per reconcile for every machine of a cluster (`indexMachines`) and shared by all the
 * planners of that reconcile, so that a 5,000-machine deployment is walked a handful of times, not once per
 * MachineSet per question.
 */
import type { Machine } from '../../api/machine.js';
import type { DeletePolicy } from '../../api/machine-deployment.js';
import { getCondition } from '../conditions.js';
import { failureDomainOf } from '../machine/facts.js';
import { NODE_HEALTH } from '../machine/node-conditions.js';
import type { NodeCondition, NodeFact, Observed } from '../observed.js';
import { DeletionOrder, policyKeyOf, policyKeySource } from './deletion-order.js';
import { controllerOf } from './ownership.js';
import { epochMillis } from './time.js';

/** Why a machine is deleted before healthy ones when its MachineSet scales down. */
export type UnhealthyReason = 'Failed' | 'NoNode' | 'NodeNotReady' | 'NodeUnhealthy' | 'HealthCheckFailed';

export interface MachineHealth {
  /** deletionTimestamp is set: the machine is going away and counts as neither ready nor available. */
  deleting: boolean;
  unhealthy?: UnhealthyReason;
  /** The node is Ready (and the machine is neither deleting nor failed). */
  ready: boolean;
  /** Epoch milliseconds since when the node has been Ready; set when `ready`. */
  readySince?: number;
  /** The failure domain the machine runs in ('' when none). */
  failureDomain: string;
}

/** The node conditions whose True means trouble: NodeHealthy's list without Ready, which must be True instead. */
const PRESSURE_CONDITIONS: ReadonlySet<string> = new Set(NODE_HEALTH.filter((type) => type !== 'Ready'));

/**
 * The health of one machine, from the observed node when the workload cluster could be read and from the
 * machine's own conditions otherwise.
 *
 * Unhealthy, as Cluster API's isMachineHealthy (core/reconcilers/machineset/machineset_deletion_order.go):
 * no node, NodeHealthy False, HealthCheckSucceeded False; plus what we observe directly: phase Failed (or a
 * failureReason) and a node whose Ready condition is not True.
 * Note: Cluster API does not count an Unknown *machine condition* as unhealthy, and neither do we; but an
 * observed node whose Ready is Unknown has stopped reporting (its kubelet is gone), which is not Ready.
 */
export function machineHealth(machine: Machine, nodes: NodeLookup | undefined): MachineHealth {
  // One set of rules: the index's health table (indexMachines), for this one machine.
  const table = new HealthTable([machine], nodes);
  table.assess(0);
  return table.healthAt(0);
}

/**
 * Available, as Cluster API and Deployments mean it: Ready for at least minReadySeconds.
 * Learnt from cluster-api api/core/v1beta2 (Machine Available condition) and Kubernetes' podutil.IsPodAvailable.
 */
export function isAvailable(health: MachineHealth, minReadySeconds: number, now: number): boolean {
  if (!health.ready) return false;
  if (minReadySeconds <= 0) return true;
  return now - (health.readySince ?? 0) >= minReadySeconds * 1000;
}

/** Seconds until a Ready machine becomes available, or undefined when it is not Ready or already available. */
export function secondsUntilAvailable(health: MachineHealth, minReadySeconds: number, now: number): number | undefined {
  if (!health.ready || minReadySeconds <= 0) return undefined;
  const at = (health.readySince ?? 0) + minReadySeconds * 1000;
  return at > now ? Math.ceil((at - now) / 1000) : undefined;
}

/** Finds the node of a machine: by its nodeRef, or by providerID before the nodeRef is recorded. */
export interface NodeLookup {
  find(machine: Machine): NodeFact | undefined;
}

export function nodeLookup(nodes: readonly NodeFact[]): NodeLookup {
  // Built on first use: with a memo (IndexMemo) of the last reconcile most machines find their node without it.
  let byName: Map<string, NodeFact> | undefined;
  // Only a machine without a nodeRef (a node still joining) is looked up by providerID: built on first use.
  let byProviderID: Map<string, NodeFact> | undefined;
  return {
    find(machine) {
      const ref = machine.status?.nodeRef?.name;
      if (ref !== undefined) {
        if (!byName) {
          byName = new Map();
          for (const n of nodes) byName.set(n.name, n);
        }
        return byName.get(ref);
      }
      if (machine.spec.providerID === undefined) return undefined;
      if (!byProviderID) {
        byProviderID = new Map();
        for (const n of nodes) if (n.providerID) byProviderID.set(n.providerID, n);
      }
      return byProviderID.get(machine.spec.providerID);
    },
  };
}

/**
 * What one reconcile of a cluster leaves for the next one's index: where each machine's node was in the observed
 * list. The store lists a cluster's machines, and the workload cluster its nodes, in the same order from one
 * reconcile to the next, so the machine in place i mostly finds its node where it was, checked by name, without
 * a lookup in a map of every node (what the plan-50k profile found costly: BENCHMARKS.md).
 * A machine whose node is not where it was (machines or nodes came or went) is looked up by name, as without a
 * memo: the index is the same either way (a Node's name is unique in its cluster, its API's key).
 *
 * Held by the caller between reconciles of one cluster (workflows/reconcile-cluster.ts), never shared between
 * clusters; pure data: nothing in it reads a clock or the world.
 */
export class IndexMemo {
  /** The position in observed.nodes of the node of the machine in each place of the machine list; -1 for none. */
  nodeAt: Int32Array = new Int32Array(0);
  /**
   * The buffer the next reconcile writes its nodeAt into (the one of the reconcile before last): a 50,000-machine
   * index does not allocate a new one each time (an array that large goes to the old generation, and enough of them
   * bring on a full collection).
   */
  spareNodeAt: Int32Array = new Int32Array(0);
  /** 0, 1, 2, ...: the slots of the whole list and of each controller's run are views of it (subarray), not copies. */
  iota: Int32Array = new Int32Array(0);
  /**
   * The deletion order's policy key of the machine in each place, by policy, with the input it was worked out from
   * (deletion-order.ts policyKeySource: the uid, or the creation time): a key is reused only when that input is the
   * same string, so a machine that came, went or moved gets its own key worked out again.
   */
  readonly policyKeys = new Map<DeletePolicy, { source: (string | undefined)[]; key: Float64Array }>();
}

/**
 * Every machine of a reconcile, indexed once: health, machines by controller uid, orphans, names in use.
 * Build it with `indexMachines` and pass it to each planner of the same reconcile.
 *
 * The health of the machines is kept as a table (one slot per machine, a few arrays of numbers and strings) rather
 * than an object per machine in a Map: the planners walk whole MachineSets (counts, MachinesReady, deletion order)
 * by slot, without a lookup per machine. `health(machine)` answers for one machine (and is the slower way).
 */
export interface MachineIndex {
  readonly now: number;
  health(machine: Machine): MachineHealth;
  /** Machines whose controller ownerReference carries this uid. */
  controlledBy(uid: string | undefined): readonly Machine[];
  /** Machines without a controller, not deleting: candidates for adoption. */
  readonly orphans: readonly Machine[];
  /** Names of all machines, to keep generated names unique. */
  readonly names: ReadonlySet<string>;
  /**
   * Which of `candidates` are names of machines: what naming new machines asks (machine-names.ts), answered by one
   * walk of the names against the few candidates rather than a set of every name.
   */
  namesTaken(candidates: readonly string[]): ReadonlySet<string>;
  /**
   * deletionOrder of `machines` by `policy`, worked out once per array and policy in this reconcile: the
   * deployment planner's availability count of a scale-down and the set planner's scale-down walk the same order.
   */
  deletionOrder(machines: readonly Machine[], policy: DeletePolicy): readonly Machine[];
  /** deletionOrder as slots (slotsOf): the same order. */
  deletionOrderSlots(machines: readonly Machine[], policy: DeletePolicy): ArrayLike<number>;
  /**
   * The first `count` slots of deletionOrderSlots (all when `machines` has fewer; the array may hold more after
   * them): what a scale-down by `count` reads, worked out only that far (deletion-order.ts DeletionOrder).
   */
  deletionOrderPrefix(machines: readonly Machine[], policy: DeletePolicy, count: number): ArrayLike<number>;
  /**
   * The machine is leaving on an interruption notice (core/machine/interruption.ts): it no longer counts towards
   * its set's replicas, so its replacement is made at once.
   */
  leaving(machine: Machine): boolean;
  /** Some machine is leaving: when none is (the common case) no list needs filtering. */
  readonly anyLeaving: boolean;
  /**
   * What `compute` gives for `list`, worked out once per list and `key` in this reconcile: the deployment planner
   * and each set's status count the same list (countReplicas). The value is shared: never changed by a caller.
   */
  onceFor<T>(list: readonly Machine[], key: string, compute: () => T): T;
  /** The slot of each machine of `machines`, in order: worked out once per array (at once for the index's own lists). */
  slotsOf(machines: readonly Machine[]): ArrayLike<number>;
  /** health() of the machine in `slot`. */
  healthAt(slot: number): MachineHealth;
  deletingAt(slot: number): boolean;
  readyAt(slot: number): boolean;
  /** Epoch milliseconds since when the node is Ready; meaningful when readyAt(slot). */
  readySinceAt(slot: number): number;
  unhealthyAt(slot: number): UnhealthyReason | undefined;
  failureDomainAt(slot: number): string;
  machineAt(slot: number): Machine;
  /** The deletion order's policy key of the machine in `slot` (deletion-order.ts policyKeyOf). */
  policyKeyAt(slot: number, policy: DeletePolicy): number;
}

const DELETING = 1;
const READY = 2;
/** Unhealthy reasons by code (0: healthy). */
const REASONS: readonly (UnhealthyReason | undefined)[] = [undefined, 'Failed', 'NoNode', 'NodeNotReady', 'NodeUnhealthy', 'HealthCheckFailed'];
const FAILED = 1;
const NO_NODE = 2;
const NODE_NOT_READY = 3;
const NODE_UNHEALTHY = 4;
const HEALTH_CHECK_FAILED = 5;

/**
 * The health table: each slot's health as numbers and strings, no object per machine. `assess` holds the rules
 * (machineHealth above answers for one machine through it).
 */
class HealthTable {
  /** Machines asked about that the list given to indexMachines lacks, in slots from `listed` on. */
  private readonly added: Machine[] = [];
  /** DELETING | READY | unhealthy code << 2, by slot (sized for the list given; add grows it). */
  flags: Uint8Array;
  /** The Ready condition's lastTransitionTime of a Ready machine, read into readySince on first use. */
  readonly readyTime: (string | undefined)[];
  // Filled on first use, by slot (holes until then).
  private readySince: number[] | undefined;
  private domain: string[] | undefined;
  /** How many slots the list given to indexMachines has: the memo's places (IndexMemo) are these. */
  readonly listed: number;

  constructor(
    /** The machines by slot: the list given to indexMachines (not copied), then `added`. */
    private readonly given: readonly Machine[],
    readonly nodes: NodeLookup | undefined,
    /** The observed nodes and the memo's hints (IndexMemo), when there is a memo. */
    readonly hints?: { list: readonly NodeFact[]; before: Int32Array; after: Int32Array },
    readonly memo?: IndexMemo,
  ) {
    this.listed = given.length;
    this.flags = new Uint8Array(given.length);
    this.readyTime = new Array(given.length);
  }

  /** How many slots there are (the list given, then those added). */
  get size(): number {
    return this.listed + this.added.length;
  }

  machineAt(slot: number): Machine {
    return slot < this.listed ? this.given[slot]! : this.added[slot - this.listed]!;
  }

  /** Positions of the nodes by name, the last of a name winning as in nodeLookup: built on the first miss. */
  private positions: Map<string, number> | undefined;

  /** The machine's node: where the memo says it was (checked by name), else by name or providerID as nodeLookup finds it. */
  private nodeOf(machine: Machine, slot: number): NodeFact | undefined {
    const hints = this.hints;
    if (hints === undefined) return this.nodes!.find(machine);
    const ref = machine.status?.nodeRef?.name;
    if (ref === undefined) {
      if (slot < hints.after.length) hints.after[slot] = -1;
      return this.nodes!.find(machine);
    }
    const at = slot < hints.before.length ? hints.before[slot]! : -1;
    const hinted = at >= 0 ? hints.list[at] : undefined;
    let found = at;
    if (hinted === undefined || hinted.name !== ref) {
      if (!this.positions) {
        this.positions = new Map();
        for (let i = 0; i < hints.list.length; i++) this.positions.set(hints.list[i]!.name, i);
      }
      found = this.positions.get(ref) ?? -1;
    }
    if (slot < hints.after.length) hints.after[slot] = found;
    return found >= 0 ? hints.list[found] : undefined;
  }

  /** Assesses the machine in `slot` (add appends one first). */
  assess(slot: number): void {
    const machine = this.machineAt(slot);
    const deleting = machine.metadata.deletionTimestamp !== undefined;
    const status = machine.status;
    const conditions = status?.conditions;
    let unhealthy = 0;
    let ready = false;
    let readyTime: string | undefined;
    let node: NodeFact | undefined;
    if (status?.phase === 'Failed' || status?.failureReason !== undefined) unhealthy = FAILED;
    else {
      const nodes = this.nodes;
      node = nodes ? this.nodeOf(machine, slot) : undefined;
      let pressure = false;
      if (nodes) {
        let readyCond: NodeCondition | undefined;
        if (node) {
          const list = node.conditions;
          for (let i = 0; i < list.length; i++) {
            const c = list[i]!;
            if (c.type === 'Ready') readyCond ??= c;
            else if (c.status === 'True' && PRESSURE_CONDITIONS.has(c.type)) pressure = true;
          }
        }
        if (!node) unhealthy = NO_NODE;
        else if (readyCond?.status !== 'True') unhealthy = NODE_NOT_READY;
        else {
          ready = true;
          readyTime = readyCond.lastTransitionTime;
        }
      } else if (!status?.nodeRef) unhealthy = NO_NODE;
      else {
        // The workload cluster could not be read: trust what the machine last recorded of its node.
        const nodeReady = getCondition(conditions, 'NodeReady');
        if (nodeReady?.status === 'False') unhealthy = NODE_NOT_READY;
        else if (nodeReady?.status === 'True') {
          ready = true;
          readyTime = nodeReady.lastTransitionTime;
        }
      }
      // Note: NodeHealthy is the machine's record of its node's conditions, written by the last reconcile. With the
      // node observed in this one, the observation counts: a record written while the node was still booting would
      // rank a machine whose node is Ready now for deletion together with ones whose node is NotReady, and a
      // scale-down from 3 to 1 could then delete the only available machine (found by the chaos soak, seed 1).
      if (!node) pressure = getCondition(conditions, 'NodeHealthy')?.status === 'False';
      if (!unhealthy && pressure) unhealthy = NODE_UNHEALTHY;
      if (!unhealthy && getCondition(conditions, 'HealthCheckSucceeded')?.status === 'False') unhealthy = HEALTH_CHECK_FAILED;
    }
    if (deleting) ready = false;
    this.flags[slot] = (deleting ? DELETING : 0) | (ready ? READY : 0) | (unhealthy << 2);
    this.readyTime[slot] = ready ? readyTime : undefined;
  }

  /** A machine not in the list given: assessed in a slot of its own. */
  add(machine: Machine): number {
    const slot = this.size;
    this.added.push(machine);
    if (slot >= this.flags.length) {
      const flags = new Uint8Array(2 * slot + 8);
      flags.set(this.flags);
      this.flags = flags;
    }
    this.assess(slot);
    return slot;
  }

  /** The policy key of the machine in `slot`: from the memo when its input is the one the memo's key came from. */
  policyKeyAt(slot: number, policy: DeletePolicy): number {
    const source = policyKeySource(policy, this.machineAt(slot));
    const memo = this.memo;
    if (memo === undefined || source === undefined || slot >= this.listed) return policyKeyOf(policy, source);
    let keys = memo.policyKeys.get(policy);
    if (keys === undefined || keys.key.length < this.listed) {
      const key = new Float64Array(this.listed);
      if (keys) key.set(keys.key);
      keys = { source: keys?.source ?? [], key };
      memo.policyKeys.set(policy, keys);
    }
    if (keys.source[slot] === source) return keys.key[slot]!;
    const key = policyKeyOf(policy, source);
    keys.source[slot] = source;
    keys.key[slot] = key;
    return key;
  }

  deletingAt(slot: number): boolean {
    return (this.flags[slot]! & DELETING) !== 0;
  }

  unhealthyAt(slot: number): UnhealthyReason | undefined {
    return REASONS[this.flags[slot]! >> 2];
  }

  readyAt(slot: number): boolean {
    return (this.flags[slot]! & READY) !== 0;
  }

  readySinceAt(slot: number): number {
    // Sized at first use (a steady plan asks neither): a hole written far from the start of an empty array would
    // make it a slow dictionary.
    this.readySince ??= new Array(this.size);
    let v = this.readySince[slot];
    if (v === undefined) {
      v = epochMillis(this.readyTime[slot], 0);
      this.readySince[slot] = v;
    }
    return v;
  }

  failureDomainAt(slot: number): string {
    this.domain ??= new Array(this.size);
    let v = this.domain[slot];
    if (v === undefined) {
      v = failureDomainOf(this.machineAt(slot)) ?? '';
      this.domain[slot] = v;
    }
    return v;
  }

  healthAt(slot: number): MachineHealth {
    const deleting = this.deletingAt(slot);
    const ready = this.readyAt(slot);
    const unhealthy = this.unhealthyAt(slot);
    const failureDomain = this.failureDomainAt(slot);
    if (unhealthy)
      return ready ? { deleting, unhealthy, ready, readySince: this.readySinceAt(slot), failureDomain } : { deleting, unhealthy, ready, failureDomain };
    return ready ? { deleting, ready, readySince: this.readySinceAt(slot), failureDomain } : { deleting, ready, failureDomain };
  }
}

/** The size of namesTaken's table of candidates. */
const NAME_FILTER_BITS = 4096;

/** A name's place in namesTaken's table: of its length and its last two characters (a name's suffix is a hash). */
function nameFilterBit(name: string): number {
  const n = name.length;
  // charCodeAt past the start is NaN, 0 once in an integer operation: the same for a name and a candidate.
  return (((n * 31 + name.charCodeAt(n - 1)) * 31 + name.charCodeAt(n - 2)) | 0) & (NAME_FILTER_BITS - 1);
}

export function indexMachines(
  machines: readonly Machine[],
  observed: Observed,
  now: Date,
  leaving: ReadonlySet<Machine> = new Set(),
  /** The cluster's memo from its last reconcile (IndexMemo), updated for the next one. */
  memo?: IndexMemo,
): MachineIndex {
  let hints: { list: readonly NodeFact[]; before: Int32Array; after: Int32Array } | undefined;
  if (memo && observed.nodes) {
    // The spare buffer, zeroed as a new one would be (a machine without a node does not write its place).
    let after = memo.spareNodeAt;
    if (after.length === machines.length && after !== memo.nodeAt) after.fill(0);
    else after = new Int32Array(machines.length);
    hints = { list: observed.nodes, before: memo.nodeAt, after };
  }
  const table = new HealthTable(machines, observed.nodes ? nodeLookup(observed.nodes) : undefined, hints, memo);
  // The slots of each list the index hands out (or was given), by the list itself.
  const listSlots = new Map<readonly Machine[], ArrayLike<number>>();
  // Machines of one set come together (the store lists them by name): each controller's machines are noted as runs of
  // slots, [start, end) pairs, and its list is copied from the machines given (a slice per run), not pushed one by one.
  const runs = new Map<string, number[]>();
  const orphans: Machine[] = [];
  const orphanSlots: number[] = [];
  let lastUid: string | undefined;
  let lastRuns: number[] | undefined;
  const n = machines.length;
  for (let slot = 0; slot < n; slot++) {
    table.assess(slot);
    const m = machines[slot]!;
    const uid = controllerOf(m)?.uid;
    if (uid !== undefined) {
      if (uid === lastUid && lastRuns![lastRuns!.length - 1] === slot) lastRuns![lastRuns!.length - 1] = slot + 1;
      else {
        lastRuns = runs.get(uid);
        if (!lastRuns) {
          lastRuns = [];
          runs.set(uid, lastRuns);
        }
        lastRuns.push(slot, slot + 1);
        lastUid = uid;
      }
    } else if (m.metadata.deletionTimestamp === undefined) {
      orphans.push(m);
      orphanSlots.push(slot);
    }
  }
  // 0, 1, 2, ...: the whole list's slots and a controller's single run of slots are views of it.
  let iota = memo?.iota;
  if (iota === undefined || iota.length < n) {
    iota = new Int32Array(n);
    for (let i = 0; i < n; i++) iota[i] = i;
    if (memo) memo.iota = iota;
  }
  const byController = new Map<string, { machines: readonly Machine[]; slots: ArrayLike<number> }>();
  for (const [uid, r] of runs) {
    let list: readonly Machine[];
    let slots: ArrayLike<number>;
    if (r.length === 2) {
      // A controller of every machine (one deployment's single set) hands out the list given: no 50,000-element copy
      // per reconcile (a young array that large is promoted, and enough of them bring on a full collection).
      list = r[0] === 0 && r[1] === n ? machines : machines.slice(r[0], r[1]);
      slots = iota.subarray(r[0]!, r[1]!);
    } else {
      let length = 0;
      for (let i = 0; i < r.length; i += 2) length += r[i + 1]! - r[i]!;
      const own = new Int32Array(length);
      const copy: Machine[] = [];
      for (let i = 0, k = 0; i < r.length; i += 2)
        for (let slot = r[i]!; slot < r[i + 1]!; slot++) {
          copy.push(machines[slot]!);
          own[k++] = slot;
        }
      list = copy;
      slots = own;
    }
    byController.set(uid, { machines: list, slots });
  }
  const allSlots = iota.subarray(0, n);
  if (memo && hints) {
    memo.spareNodeAt = memo.nodeAt;
    memo.nodeAt = hints.after;
  }
  listSlots.set(machines, allSlots);
  listSlots.set(orphans, orphanSlots);
  for (const g of byController.values()) listSlots.set(g.machines, g.slots);
  return new Index(machines, table, now.getTime(), byController, orphans, listSlots, leaving);
}

const NO_MACHINES: readonly Machine[] = [];

/**
 * The index indexMachines builds. A class rather than an object of closures: the planners ask it once or more per
 * machine (deletingAt, machineAt, readyAt over 50,000 slots), and the methods of one class are called directly
 * where a new set of closures each reconcile is not (plan-50k: the deletion order's walk took half the time).
 */
class Index implements MachineIndex {
  // A machine's slot, for the few questions about one machine: built on first use.
  private slotOf: Map<Machine, number> | undefined;
  // The names are needed only to name new machines: a set of 50,000 strings is not built for a steady plan.
  private nameSet: Set<string> | undefined;
  private readonly orders = new Map<readonly Machine[], Map<DeletePolicy, { prefix(count: number): ArrayLike<number>; machines: readonly Machine[] }>>();
  private readonly once = new Map<readonly Machine[], Map<string, unknown>>();
  readonly anyLeaving: boolean;

  constructor(
    private readonly machines: readonly Machine[],
    private readonly table: HealthTable,
    readonly now: number,
    private readonly byController: Map<string, { machines: readonly Machine[]; slots: ArrayLike<number> }>,
    readonly orphans: readonly Machine[],
    private readonly listSlots: Map<readonly Machine[], ArrayLike<number>>,
    private readonly leavingSet: ReadonlySet<Machine>,
  ) {
    this.anyLeaving = leavingSet.size > 0;
  }

  private slotFor(m: Machine): number {
    const table = this.table;
    if (!this.slotOf) {
      this.slotOf = new Map();
      for (let i = 0; i < table.size; i++) if (!this.slotOf.has(table.machineAt(i))) this.slotOf.set(table.machineAt(i), i);
    }
    let slot = this.slotOf.get(m);
    if (slot === undefined) {
      // A machine the index was not given (a caller's own copy): its health all the same.
      slot = table.add(m);
      this.slotOf.set(m, slot);
    }
    return slot;
  }

  slotsOf(list: readonly Machine[]): ArrayLike<number> {
    let slots = this.listSlots.get(list);
    if (!slots) {
      slots = list.map((m) => this.slotFor(m));
      this.listSlots.set(list, slots);
    }
    return slots;
  }

  /** Bound: callers hand it on as a function (deletionOrder's health). */
  readonly health = (m: Machine): MachineHealth => this.table.healthAt(this.slotFor(m));

  deletionOrderSlots(list: readonly Machine[], policy: DeletePolicy): ArrayLike<number> {
    return this.orderOf(list, policy).prefix(list.length);
  }

  deletionOrderPrefix(list: readonly Machine[], policy: DeletePolicy, count: number): ArrayLike<number> {
    return this.orderOf(list, policy).prefix(count);
  }

  deletionOrder(list: readonly Machine[], policy: DeletePolicy): readonly Machine[] {
    return this.orderOf(list, policy).machines;
  }

  controlledBy(uid: string | undefined): readonly Machine[] {
    return uid === undefined ? NO_MACHINES : (this.byController.get(uid)?.machines ?? NO_MACHINES);
  }

  get names(): ReadonlySet<string> {
    this.nameSet ??= new Set(this.machines.map((m) => m.metadata.name));
    return this.nameSet;
  }

  /** Bound: callers hand it on as a function (newMachineNames). */
  readonly namesTaken = (candidates: readonly string[]): ReadonlySet<string> => {
    const names = this.nameSet;
    if (names) return new Set(candidates.filter((c) => names.has(c)));
    const wanted = new Set(candidates);
    // Only a name whose length and last two characters are those of a candidate can be one (a table of 4,096 bits
    // answers): most names are neither hashed nor looked up.
    const filter = new Uint32Array(NAME_FILTER_BITS >> 5);
    for (const c of candidates) {
      const bit = nameFilterBit(c);
      filter[bit >> 5]! |= 1 << (bit & 31);
    }
    const taken = new Set<string>();
    const machines = this.machines;
    for (let i = 0; i < machines.length; i++) {
      const name = machines[i]!.metadata.name;
      const bit = nameFilterBit(name);
      if ((filter[bit >> 5]! & (1 << (bit & 31))) !== 0 && wanted.has(name)) taken.add(name);
    }
    return taken;
  };

  leaving(m: Machine): boolean {
    return this.leavingSet.has(m);
  }

  healthAt(slot: number): MachineHealth {
    return this.table.healthAt(slot);
  }

  deletingAt(slot: number): boolean {
    return this.table.deletingAt(slot);
  }

  readyAt(slot: number): boolean {
    return this.table.readyAt(slot);
  }

  readySinceAt(slot: number): number {
    return this.table.readySinceAt(slot);
  }

  unhealthyAt(slot: number): UnhealthyReason | undefined {
    return this.table.unhealthyAt(slot);
  }

  failureDomainAt(slot: number): string {
    return this.table.failureDomainAt(slot);
  }

  machineAt(slot: number): Machine {
    return this.table.machineAt(slot);
  }

  policyKeyAt(slot: number, policy: DeletePolicy): number {
    return this.table.policyKeyAt(slot, policy);
  }

  onceFor<T>(list: readonly Machine[], key: string, compute: () => T): T {
    let byKey = this.once.get(list);
    if (!byKey) {
      byKey = new Map();
      this.once.set(list, byKey);
    }
    if (byKey.has(key)) return byKey.get(key) as T;
    const value = compute();
    byKey.set(key, value);
    return value;
  }

  private orderOf(list: readonly Machine[], policy: DeletePolicy) {
    let byPolicy = this.orders.get(list);
    if (!byPolicy) {
      byPolicy = new Map();
      this.orders.set(list, byPolicy);
    }
    let order = byPolicy.get(policy);
    if (!order) {
      const table = this.table;
      // The table itself answers the deletion order's walk of every machine (its methods, not the index's).
      const prefix = new DeletionOrder(this.slotsOf(list), policy, table);
      // The machines in that order only when asked (the planners walk the slots).
      let ordered: Machine[] | undefined;
      order = {
        prefix: (count) => prefix.prefix(count),
        get machines() {
          if (!ordered) {
            const slots = prefix.prefix(list.length);
            ordered = new Array(list.length);
            for (let i = 0; i < list.length; i++) ordered[i] = table.machineAt(slots[i]!);
          }
          return ordered;
        },
      };
      byPolicy.set(policy, order);
    }
    return order;
  }
}

/** isAvailable of the machine in `slot`, on the index's facts. */
export function availableAt(index: MachineIndex, slot: number, minReadySeconds: number): boolean {
  if (!index.readyAt(slot)) return false;
  return minReadySeconds <= 0 || index.now - index.readySinceAt(slot) >= minReadySeconds * 1000;
}

/**
 * `machines` without those leaving on an interruption notice: the same array when none is (the common case), so
 * that the index's deletion order of it is worked out once for both planners.
 */
export function notLeaving(machines: readonly Machine[], index: MachineIndex): readonly Machine[] {
  if (!index.anyLeaving) return machines;
  return machines.some((m) => index.leaving(m)) ? machines.filter((m) => !index.leaving(m)) : machines;
}
