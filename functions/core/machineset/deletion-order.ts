/**
 * Which machines a MachineSet deletes first when it scales down.
 *
 * Learnt from cluster-api core/reconcilers/machineset/machineset_deletion_order.go (deletePriority
 * functions and getMachinesToDeletePrioritized) and its tests. The priority classes, highest first:
 *   1. machines already deleting: picking them costs nothing, they are going anyway. Cluster API's
 *      Note: without this, a scale-down would delete more machines while earlier ones are still deleting;
 *   2. machines with the clusterless.dev/delete-machine annotation: the user chose them;
 *   3. unhealthy machines (see machine-health.ts): deleting them first unblocks rollouts without touching
 *      availability;
 *   4. everything else, by the deletePolicy: Random (a stable pseudo-random order: a hash of the machine's
 *      uid, or name), Newest (youngest first) or Oldest (oldest first).
 * Within classes 2 to 4, machines are taken from the failure domain that has the most machines left, so
 * that scaling down keeps the set spread (the spreading Cluster API lacks for workers); the deletePolicy
 * breaks ties. Ties of the policy itself are broken by name, so the order is total and reproducible.
 *
 * Note: the order is built one pick at a time, so the first k machines of the full order are exactly the k
 * machines a scale-down by k deletes. The MachineDeployment planner relies on this to know how much
 * availability a scale-down of an old MachineSet really costs.
 */
import { Annotations } from '../../api/common.js';
import type { Machine } from '../../api/machine.js';
import type { DeletePolicy } from '../../api/machine-deployment.js';
import { fnv1a32 } from './hash.js';
import type { MachineHealth } from './machine-health.js';
import { DomainNumbers, FEW_DOMAINS } from './failure-domains.js';
import { epochMillis } from './time.js';

export type DeletePriorityClass = 'Deleting' | 'DeleteAnnotation' | 'Unhealthy' | 'Policy';

export function deletePriorityClass(machine: Machine, health: MachineHealth): DeletePriorityClass {
  if (health.deleting) return 'Deleting';
  if (machine.metadata.annotations?.[Annotations.deleteMachine] !== undefined) return 'DeleteAnnotation';
  if (health.unhealthy) return 'Unhealthy';
  return 'Policy';
}

interface Candidate {
  machine: Machine;
  name: string;
  domain: string;
  /** The policy's sort key: smaller goes first. */
  key: number;
}

/** metadata.creationTimestamp; a machine without one sorts as the newest (Cluster API: mustNotDelete for Oldest). */
function createdAt(machine: Machine): number {
  return epochMillis(machine.metadata.creationTimestamp, Number.POSITIVE_INFINITY);
}

function policyKey(policy: DeletePolicy, machine: Machine): number {
  switch (policy) {
    case 'Newest':
      return -createdAt(machine);
    case 'Oldest':
      return createdAt(machine);
    case 'Random':
      return fnv1a32(machine.metadata.uid ?? machine.metadata.name);
  }
}

function byPolicy(a: Candidate, b: Candidate): number {
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * All `machines` in the order a scale-down deletes them. `health` gives each machine's health (from
 * indexMachines). Runs in O(n log n + n·d) for n machines in d failure domains.
 */
export function deletionOrder(machines: readonly Machine[], policy: DeletePolicy, health: (m: Machine) => MachineHealth): Machine[] {
  const classes: Record<DeletePriorityClass, Candidate[]> = { Deleting: [], DeleteAnnotation: [], Unhealthy: [], Policy: [] };
  // Machines left per failure domain; deleting machines count as gone already. A counter object per domain, so
  // that each of the n picks below reads and updates it without a lookup by name.
  const left = new Map<string, { n: number }>();
  const counter = (domain: string) => {
    let c = left.get(domain);
    if (!c) {
      c = { n: 0 };
      left.set(domain, c);
    }
    return c;
  };
  for (const m of machines) {
    const h = health(m);
    const cls = deletePriorityClass(m, h);
    classes[cls].push({ machine: m, name: m.metadata.name, domain: h.failureDomain, key: cls === 'Deleting' ? 0 : policyKey(policy, m) });
    if (cls !== 'Deleting') counter(h.failureDomain).n++;
  }

  const out: Machine[] = classes.Deleting.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((c) => c.machine);
  for (const cls of ['DeleteAnnotation', 'Unhealthy', 'Policy'] as const) {
    const queues = new Map<string, Candidate[]>();
    for (const c of classes[cls]) {
      const q = queues.get(c.domain);
      if (q) q.push(c);
      else queues.set(c.domain, [c]);
    }
    const heads = [...queues.entries()].map(([domain, q]) => ({ left: counter(domain), q: q.sort(byPolicy), i: 0 }));
    for (let remaining = classes[cls].length; remaining > 0; remaining--) {
      // The domain with the most machines left; the policy decides between equally crowded domains.
      let best: (typeof heads)[number] | undefined;
      for (const h of heads) {
        if (h.i >= h.q.length) continue;
        if (!best) {
          best = h;
          continue;
        }
        const dl = h.left.n - best.left.n;
        if (dl > 0 || (dl === 0 && byPolicy(h.q[h.i]!, best.q[best.i]!) < 0)) best = h;
      }
      const pick = best!.q[best!.i++]!;
      best!.left.n--;
      out.push(pick.machine);
    }
  }
  return out;
}

/** The `count` machines a scale-down by `count` deletes, in order (CAPI's getMachinesToDeletePrioritized). */
export function machinesToDelete(machines: readonly Machine[], count: number, policy: DeletePolicy, health: (m: Machine) => MachineHealth): Machine[] {
  if (count <= 0) return [];
  return deletionOrder(machines, policy, health).slice(0, count);
}

/** What DeletionOrder reads of the machines, by slot (machine-health.ts MachineIndex). */
export interface DeletionOrderFacts {
  machineAt(slot: number): Machine;
  deletingAt(slot: number): boolean;
  unhealthyAt(slot: number): string | undefined;
  failureDomainAt(slot: number): string;
  /** policyKey of the machine in `slot` (the index keeps it between reconciles: IndexMemo). */
  policyKeyAt(slot: number, policy: DeletePolicy): number;
}

/** The input policyKey reads of a machine: the same input, the same key. */
export function policyKeySource(policy: DeletePolicy, machine: Machine): string | undefined {
  return policy === 'Random' ? (machine.metadata.uid ?? machine.metadata.name) : machine.metadata.creationTimestamp;
}

/** policyKey from policyKeySource's input (written apart from policyKey, which the oracle test holds it to). */
export function policyKeyOf(policy: DeletePolicy, source: string | undefined): number {
  switch (policy) {
    case 'Newest':
      return -epochMillis(source, Number.POSITIVE_INFINITY);
    case 'Oldest':
      return epochMillis(source, Number.POSITIVE_INFINITY);
    case 'Random':
      return fnv1a32(source!);
  }
}

/** Positions below this many are sorted outright rather than selected first. */
const SELECT_MIN = 32;

/**
 * Puts the `m` smallest of `a[lo..hi)` (distinct numbers) in `a[lo..lo+m)`, in no particular order: Hoare's
 * selection with a median-of-three pivot, no randomness (core/ is pure); a range that keeps failing to shrink is
 * sorted outright, so an adversarial input costs a sort, never a quadratic walk.
 */
export function selectSmallest(a: Float64Array, lo: number, hi: number, m: number): void {
  const target = lo + m;
  let budget = 2 * Math.ceil(Math.log2(hi - lo + 1)) + 4;
  while (hi - lo > SELECT_MIN) {
    if (budget-- === 0) {
      a.subarray(lo, hi).sort();
      return;
    }
    const mid = lo + ((hi - lo) >> 1);
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi - 1]!;
    // The median of the three.
    const pivot = Math.max(Math.min(x, y), Math.min(Math.max(x, y), z));
    // Hoare's partition: [lo, i) <= pivot, (j, hi) >= pivot.
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    // Now [lo, j] <= pivot <= [i, hi).
    if (target <= j + 1) hi = j + 1;
    else if (target >= i) lo = i;
    else return;
  }
  a.subarray(lo, hi).sort();
}

/** Compares slots by their machines' names (byPolicy's last rule): the one comparison the order's name sorts use. */
function bySlotName(name: (slot: number) => string): (a: number, b: number) => number {
  return (a, b) => {
    const x = name(a);
    const y = name(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

/**
 * One failure domain's queue of one priority class: its slots in the policy's order (key, then name), worked out
 * only as far as the scale-down reads (`ready`). A scale-down by k takes at most k machines from a queue: the
 * smallest packed keys are selected (selectSmallest) and only they are sorted, not the whole queue.
 */
class PolicyQueue {
  /** The queue's slots in order, `ready` of them so far. */
  readonly slots: Int32Array;
  /** Their keys, in the same order. */
  readonly keys: Float64Array;
  ready = 0;
  /** The next slot to take (the merge's head). */
  i = 0;
  readonly n: number;
  /** (key - min) * scale + position: the key and the position in one exact number (a numeric sort keeps it stable). */
  private readonly packed: Float64Array | undefined;
  private readonly scale: number;

  constructor(
    private readonly queue: Int32Array,
    private readonly queueKeys: Float64Array,
    /** Slots by their machines' names (bySlotName). */
    private readonly byName: (a: number, b: number) => number,
    /** The domain's machines left (all classes after this one included): the merge reads and updates it. */
    readonly left: { n: number },
  ) {
    const n = queue.length;
    this.n = n;
    this.slots = new Int32Array(n);
    this.keys = new Float64Array(n);
    let min = Number.POSITIVE_INFINITY;
    let max = Number.NEGATIVE_INFINITY;
    let integral = true;
    for (let i = 0; i < n; i++) {
      const k = queueKeys[i]!;
      if (k < min) min = k;
      if (k > max) max = k;
      if (!Number.isInteger(k)) integral = false;
    }
    this.scale = 2 ** Math.ceil(Math.log2(Math.max(n, 2)));
    if (integral && (max - min + 1) * this.scale <= 2 ** 53) {
      this.packed = new Float64Array(n);
      for (let i = 0; i < n; i++) this.packed[i] = (queueKeys[i]! - min) * this.scale + i;
    } else {
      // Keys that do not pack (a missing creation time is Infinity): the whole queue sorted at once, stably.
      const idx = Array.from({ length: n }, (_, i) => i);
      idx.sort((a, b) => (queueKeys[a]! !== queueKeys[b]! ? (queueKeys[a]! < queueKeys[b]! ? -1 : 1) : 0));
      this.append(idx);
    }
  }

  /** Works out the order up to at least `count` slots (all of them when the queue has fewer). */
  ensure(count: number): void {
    const packed = this.packed;
    const from = this.ready;
    if (packed === undefined || from >= Math.min(count, this.n)) return;
    const n = this.n;
    const scale = this.scale;
    // A queue worked out before grows at least twice as far: the deployment planner's search asks for a longer prefix
    // a dozen times, and each extension walks the rest of the queue.
    let to = Math.min(n, from === 0 ? count : Math.max(count, 2 * from));
    if (to < n) {
      selectSmallest(packed, from, n, to - from);
      // The whole run of the largest key taken comes too: a run of equal keys goes by name (below), all of it.
      let top = packed[from]!;
      for (let i = from + 1; i < to; i++) if (packed[i]! > top) top = packed[i]!;
      // Those not taken are all above `top`: the ones of its key are those below the next key's first number.
      const nextKey = (Math.floor(top / scale) + 1) * scale;
      for (let i = to; i < n; i++) {
        const p = packed[i]!;
        if (p < nextKey) {
          packed[i] = packed[to]!;
          packed[to++] = p;
        }
      }
    }
    // Sorted, then turned into positions in place: this part of `packed` is not read again.
    const chunk = packed.subarray(from, to);
    chunk.sort();
    for (let i = 0; i < chunk.length; i++) chunk[i] = chunk[i]! % scale;
    this.append(chunk);
  }

  /** Appends the queue's `positions` (sorted by key, stably), runs of equal keys then put in name order. */
  private append(positions: ArrayLike<number>): void {
    const { slots, keys, queue, queueKeys } = this;
    const from = this.ready;
    const end = from + positions.length;
    for (let i = 0; i < positions.length; i++) {
      const p = positions[i]!;
      slots[from + i] = queue[p]!;
      keys[from + i] = queueKeys[p]!;
    }
    this.ready = end;
    // Runs of equal keys go by name (with Random, a hash collision; with Oldest or Newest, equal creation times).
    for (let i = from; i < end; ) {
      let j = i + 1;
      while (j < end && keys[j] === keys[i]) j++;
      if (j - i > 1) {
        const run = Array.from(slots.subarray(i, j)).sort(this.byName);
        for (let r = 0; r < run.length; r++) slots[i + r] = run[r]!;
      }
      i = j;
    }
  }
}

/**
 * deletionOrder over slots of an index (machine-health.ts), worked out as far as it is read: `prefix(k)` gives the
 * first k slots of the same order deletionOrder gives, without an object per candidate, with the policy's sort done
 * on numbers and only for the machines the first k can take. An oracle test compares the two over generated
 * machines, asked for every length.
 */
export class DeletionOrder {
  /** The order so far, `filled` slots of it: sized for the whole list at once (a 25,000-slot prefix grown by push was copied a dozen times). */
  private readonly out: Int32Array;
  private filled = 0;
  private readonly n: number;
  private readonly deleting: number[] = [];
  /**
   * The class of each position: 0 DeleteAnnotation, 1 Unhealthy, 2 Policy, -1 deleting. This and the two below are
   * read in one walk (classify), and only once a prefix reaches past the deleting machines: the reconciles that find a
   * scale-down's machines still deleting ask for no more than those.
   */
  private classOf = new Int8Array(0);
  /** The failure domain's number of each position. */
  private domainOf = new Int32Array(0);
  /**
   * The policy key of each position (not deleting), read in the same walk as its class and domain: the walk reads each
   * machine once, where a walk of its own per class read 50,000 scattered machines again (plan-50k).
   */
  private keyOf = new Float64Array(0);
  /** Machines per class and failure domain (not deleting). */
  private readonly counts: number[][] = [[], [], []];
  /** Machines left per failure domain; deleting machines count as gone already. */
  private readonly left: { n: number }[] = [];
  /**
   * The class being merged (0 to 2; 3 when done; -1 once the deleting machines are out, -2 before) and its queues.
   */
  private cls = -2;
  private heads: PolicyQueue[] = [];
  private remaining = 0;
  private readonly name: (slot: number) => string;
  private readonly byName: (a: number, b: number) => number;

  constructor(
    private readonly slots: ArrayLike<number>,
    private readonly policy: DeletePolicy,
    private readonly facts: DeletionOrderFacts,
  ) {
    this.name = (slot) => facts.machineAt(slot).metadata.name;
    this.byName = bySlotName(this.name);
    const n = slots.length;
    this.n = n;
    this.out = new Int32Array(n);
    for (let i = 0; i < n; i++) if (facts.deletingAt(slots[i]!)) this.deleting.push(slots[i]!);
  }

  /** Reads the class, failure domain and policy key of each machine not deleting (see classOf). */
  private classify(): void {
    const { n, slots, facts, policy } = this;
    // The failure domains numbered in order of appearance (DomainNumbers), each machine's domain number kept by
    // position (not by slot: a list's slots need not start at 0, and an array written from the middle is a slow
    // dictionary).
    const domains = new DomainNumbers();
    this.classOf = new Int8Array(n);
    this.domainOf = new Int32Array(n);
    this.keyOf = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const slot = slots[i]!;
      if (facts.deletingAt(slot)) {
        this.classOf[i] = -1;
        continue;
      }
      const m = facts.machineAt(slot);
      const cls = m.metadata.annotations?.[Annotations.deleteMachine] !== undefined ? 0 : facts.unhealthyAt(slot) ? 1 : 2;
      this.classOf[i] = cls;
      const id = domains.idOf(facts.failureDomainAt(slot));
      if (id === this.left.length) {
        this.left.push({ n: 0 });
        for (const c of this.counts) c.push(0);
      }
      this.left[id]!.n++;
      this.counts[cls]![id]!++;
      this.domainOf[i] = id;
      this.keyOf[i] = facts.policyKeyAt(slot, policy);
    }
  }

  /** The first `count` slots of the order (all of them when the list has fewer); the array may hold more after them. */
  prefix(count: number): ArrayLike<number> {
    const target = Math.min(count, this.n);
    const out = this.out;
    if (this.cls < -1 && target > 0) {
      const name = this.name;
      const deleting = this.deleting;
      // The store lists machines by name, so the deleting ones are usually in name order already: one walk finds that,
      // reading each name once (a sort of a sorted list compares as often, reading two names each time).
      let inOrder = true;
      let previous = deleting.length > 0 ? name(deleting[0]!) : '';
      for (let i = 1; i < deleting.length && inOrder; i++) {
        const next = name(deleting[i]!);
        inOrder = next >= previous;
        previous = next;
      }
      if (!inOrder) deleting.sort(this.byName);
      for (const slot of deleting) out[this.filled++] = slot;
      this.cls = -1;
    }
    if (this.cls < 0 && this.filled < target) {
      this.classify();
      this.enter(0);
    }
    while (this.filled < target && this.cls < 3) {
      if (this.remaining === 0) {
        this.enter(this.cls + 1);
        continue;
      }
      this.merge(target);
    }
    return out.subarray(0, this.filled);
  }

  /** Starts class `cls`: one queue per domain, in the order the domains first appear in it (deletionOrder's Map). */
  private enter(cls: number): void {
    this.cls = cls;
    this.heads = [];
    this.remaining = 0;
    if (cls > 2) return;
    // Each domain's queue sized from the counts; the domains in the order they first appear in this class.
    const counts = this.counts[cls]!;
    const queueOf: (Int32Array | undefined)[] = [];
    const keysOf: Float64Array[] = [];
    const filled: number[] = counts.map(() => 0);
    const order: number[] = [];
    let total = 0;
    for (let i = 0; i < this.n; i++) {
      if (this.classOf[i] !== cls) continue;
      const id = this.domainOf[i]!;
      let q = queueOf[id];
      if (!q) {
        q = queueOf[id] = new Int32Array(counts[id]!);
        keysOf[id] = new Float64Array(counts[id]!);
        order.push(id);
      }
      const at = filled[id]!++;
      q[at] = this.slots[i]!;
      keysOf[id]![at] = this.keyOf[i]!;
      total++;
    }
    this.heads = order.map((id) => new PolicyQueue(queueOf[id]!, keysOf[id]!, this.byName, this.left[id]!));
    this.remaining = total;
  }

  /** Picks from the current class until the order holds `target` slots or the class is spent. */
  private merge(target: number): void {
    const out = this.out;
    const heads = this.heads;
    const picks = Math.min(this.remaining, target - this.filled);
    if (heads.length === 1) {
      const h = heads[0]!;
      h.ensure(h.i + picks);
      const from = this.filled;
      out.set(h.slots.subarray(h.i, h.i + picks), from);
      this.filled = from + picks;
      h.i += picks;
      h.left.n -= picks;
      this.remaining -= picks;
      return;
    }
    // How many each queue can give to the next `picks`, found without keys: the merge takes from the domain with the
    // most left, so it takes a domain below a level L only once every domain is down to L or spent, that is after
    // `given(L)` picks. With L the highest level whose given(L) reaches `picks`, a queue gives at most what it holds
    // above L. Each queue is worked out that far (and one more, the head the last pick compares); the merge below
    // works out more of a queue if it ever needs it.
    const given = (level: number) => {
      let sum = 0;
      for (const h of heads) sum += Math.min(h.n - h.i, Math.max(0, h.left.n - level));
      return sum;
    };
    let low = Number.POSITIVE_INFINITY;
    let high = 0;
    for (const h of heads) {
      low = Math.min(low, h.left.n - (h.n - h.i));
      high = Math.max(high, h.left.n);
    }
    // given(low) is every machine of the class left, at least `picks`; find the highest such level.
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (given(mid) >= picks) low = mid;
      else high = mid - 1;
    }
    for (const h of heads) h.ensure(h.i + Math.min(h.n - h.i, Math.max(0, h.left.n - low)) + 1);
    if (heads.length > FEW_DOMAINS) {
      this.mergeMany(picks);
      this.remaining -= picks;
      return;
    }
    let filled = this.filled;
    for (let r = 0; r < picks; r++) {
      // The domain with the most machines left; the policy decides between equally crowded domains (before).
      let best: PolicyQueue | undefined;
      for (const h of heads) {
        if (h.i >= h.n) continue;
        if (h.i >= h.ready) h.ensure(2 * h.i + 1);
        if (!best || this.before(h, best)) best = h;
      }
      out[filled++] = best!.slots[best!.i++]!;
      best!.left.n--;
    }
    this.filled = filled;
    this.remaining -= picks;
  }

  /**
   * Whether the head of queue `a` is taken before the head of `b`: the domain with more machines left first, then
   * the policy's key, then the name (byPolicy), as deletionOrder picks.
   */
  private before(a: PolicyQueue, b: PolicyQueue): boolean {
    if (a.left.n !== b.left.n) return a.left.n > b.left.n;
    const ka = a.keys[a.i]!;
    const kb = b.keys[b.i]!;
    if (ka !== kb) return ka < kb;
    return this.name(a.slots[a.i]!) < this.name(b.slots[b.i]!);
  }

  /**
   * merge's picks over many failure domains: the heads in a binary heap by the same order (before), so a pick costs a
   * sift of log d rather than a look at every domain. Taking a head's machine only lowers that head (one fewer left),
   * so the heap is mended by sifting it down.
   */
  private mergeMany(picks: number): void {
    const out = this.out;
    const heap: PolicyQueue[] = [];
    const down = (from: number) => {
      let i = from;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= heap.length) return;
        const c = l + 1 < heap.length && this.before(heap[l + 1]!, heap[l]!) ? l + 1 : l;
        if (!this.before(heap[c]!, heap[i]!)) return;
        [heap[i], heap[c]] = [heap[c]!, heap[i]!];
        i = c;
      }
    };
    for (const h of this.heads) {
      if (h.i >= h.n) continue;
      if (h.i >= h.ready) h.ensure(2 * h.i + 1);
      heap.push(h);
    }
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    let filled = this.filled;
    for (let r = 0; r < picks; r++) {
      const best = heap[0]!;
      out[filled++] = best.slots[best.i++]!;
      best.left.n--;
      if (best.i >= best.n) {
        // Spent: the last head takes its place.
        const last = heap.pop()!;
        if (last !== best) heap[0] = last;
      } else if (best.i >= best.ready) best.ensure(2 * best.i + 1);
      if (heap.length > 0) down(0);
    }
    this.filled = filled;
  }
}
